//! The gzip `/metrics` page, compressed incrementally. The text page is cut
//! into segments (each family's header and its checks' lines in runs of
//! about `SEGMENT` bytes, then the rest), each compressed on its own as raw
//! deflate blocks ending on a byte boundary (a sync flush). Concatenated
//! behind a gzip header, closed by an empty final block and the CRC-32 and
//! size of the whole, they are one valid gzip stream. A render compresses
//! only the segments whose text changed since the last one (a check's
//! duration and run count change on every run; its state, labels and
//! interval seldom do) and copies the rest: its cost is the changed
//! segments plus the copy of the compressed page, not the whole page.
//! Segments of 64 KiB keep the page within a few percent of compressing it
//! whole (each segment starts without history).

use std::ops::Range;
use std::sync::Arc;

use flate2::{Compress, Compression, Crc, FlushCompress};

use super::TextPage;

/// Text per segment, at least (a family's last segment may be shorter):
/// large enough to compress about as well as the page whole and to make
/// the compressor's reset (some 200 KiB of tables) rare, small enough that
/// a family's unchanged stretches are kept.
const SEGMENT: usize = 64 * 1024;

/// The gzip header: deflate, no name or time, unknown OS (as flate2 writes).
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
/// An empty final deflate block (fixed codes, end of block): closes the
/// stream after the segments' sync-flushed blocks.
const FINAL_BLOCK: [u8; 2] = [0x03, 0x00];

/// One compressed segment and what combining its CRC-32 needs.
#[derive(Debug)]
struct Segment {
    deflated: Box<[u8]>,
    crc: u32,
    len: u64,
    /// x^(8 len) mod the CRC polynomial: shifts the CRC of what precedes
    /// the segment past it.
    shift: u32,
}

/// The segments of the last gzip page and the text page they were
/// compressed from (to tell which changed).
#[derive(Debug, Default)]
pub struct IncrementalGzip {
    previous: Option<Arc<TextPage>>,
    /// Where the segments are cut, kept while the checks are the same.
    ranges: Vec<Range<usize>>,
    segments: Vec<Segment>,
    compressed: usize,
}

/// The segments of `page`, as ranges of its pieces (`TextPage::piece`):
/// each family's header and its checks' lines in runs of at least
/// `SEGMENT` bytes, then the rest.
fn ranges(page: &TextPage) -> Vec<Range<usize>> {
    let per_family = page.checks() + 1;
    let mut out = Vec::new();
    for f in 0..page.families() {
        let (first, end) = (f * per_family, (f + 1) * per_family);
        let (mut start, mut size) = (first, 0);
        for i in first..end {
            size += page.piece(i).map_or(0, str::len);
            if size >= SEGMENT || i + 1 == end {
                out.push(start..i + 1);
                (start, size) = (i + 1, 0);
            }
        }
    }
    let rest = page.families() * per_family;
    out.push(rest..rest + 1);
    out
}

/// The same text: by address first (a check whose lines were kept shares
/// them with the previous page).
fn same(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a.as_ptr() == b.as_ptr() && a.len() == b.len()) || a == b,
        (None, None) => true,
        _ => false,
    }
}

impl IncrementalGzip {
    /// `page` gzip-compressed, recompressing only the segments whose text
    /// changed since the last call.
    pub fn compress(&mut self, page: Arc<TextPage>) -> Vec<u8> {
        let previous = self.previous.take().filter(|p| {
            p.checks() == page.checks()
                && p.families() == page.families()
                && self.segments.len() == self.ranges.len()
        });
        if previous.is_none() {
            self.ranges = ranges(&page);
        }
        let mut kept = std::mem::take(&mut self.segments).into_iter();
        let per_family = page.checks() + 1;
        let mut compressor = Compress::new(Compression::fast(), false);
        let mut scratch = Vec::new();
        self.compressed = 0;
        for range in self.ranges.iter().cloned() {
            let old = kept.next();
            let unchanged = previous.as_ref().is_some_and(|p| {
                range.clone().all(|i| {
                    // Piece i is check j - 1's lines of a family, or a header.
                    let j = i % per_family;
                    (j > 0 && p.same_lines(&page, j - 1)) || same(p.piece(i), page.piece(i))
                })
            });
            match old.filter(|_| unchanged) {
                Some(segment) => self.segments.push(segment),
                None => {
                    scratch.clear();
                    for i in range {
                        scratch.extend_from_slice(page.piece(i).unwrap_or_default().as_bytes());
                    }
                    self.compressed += scratch.len();
                    self.segments.push(deflate(&mut compressor, &scratch));
                }
            }
        }
        let size = self
            .segments
            .iter()
            .map(|s| s.deflated.len())
            .sum::<usize>();
        let mut out = Vec::with_capacity(HEADER.len() + size + FINAL_BLOCK.len() + 8);
        out.extend_from_slice(&HEADER);
        let (mut crc, mut len) = (0u32, 0u64);
        for s in &self.segments {
            out.extend_from_slice(&s.deflated);
            crc = multmodp(s.shift, crc) ^ s.crc;
            len += s.len;
        }
        out.extend_from_slice(&FINAL_BLOCK);
        out.extend_from_slice(&crc.to_le_bytes());
        // ISIZE: the size modulo 2^32, as RFC 1952 says.
        out.extend_from_slice(&((len & 0xffff_ffff) as u32).to_le_bytes());
        self.previous = Some(page);
        out
    }

    /// Bytes of text the last call compressed (the rest was copied).
    pub fn compressed(&self) -> usize {
        self.compressed
    }
}

/// `input` as raw deflate blocks ending on a byte boundary (sync flush),
/// with no reference to anything before it.
fn deflate(compressor: &mut Compress, input: &[u8]) -> Segment {
    compressor.reset();
    let mut out = Vec::with_capacity(input.len() / 8 + 64);
    let mut rest = input;
    loop {
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(1024));
        }
        let (read, written) = (compressor.total_in(), out.len());
        // Compressing into memory cannot fail; stop rather than spin if it did.
        if compressor
            .compress_vec(rest, &mut out, FlushCompress::Sync)
            .is_err()
        {
            break;
        }
        let used = usize::try_from(compressor.total_in() - read).unwrap_or(rest.len());
        rest = rest.get(used..).unwrap_or_default();
        // The flush is complete when all input is in and output room is left.
        if rest.is_empty() && out.len() < out.capacity() {
            break;
        }
        if used == 0 && out.len() == written && out.len() < out.capacity() {
            break;
        }
    }
    let mut crc = Crc::new();
    crc.update(input);
    let len = input.len() as u64;
    Segment {
        deflated: out.into_boxed_slice(),
        crc: crc.sum(),
        len,
        shift: shift_of(len),
    }
}

/// The reflected CRC-32 polynomial.
const POLY: u32 = 0xedb8_8320;

/// a * b modulo the CRC polynomial (bit 31 is x^0).
const fn multmodp(a: u32, mut b: u32) -> u32 {
    let mut p = 0;
    let mut k = 0;
    while k < 32 {
        if a & (1 << (31 - k)) != 0 {
            p ^= b;
        }
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
        k += 1;
    }
    p
}

/// x^(2^k) modulo the polynomial, for k in 0..32.
const X2N: [u32; 32] = {
    let mut table = [0; 32];
    let mut p = 1 << 30; // x^1
    let mut k = 0;
    while k < 32 {
        table[k] = p;
        p = multmodp(p, p);
        k += 1;
    }
    table
};

/// x^(8 len) modulo the polynomial: combining CRC(a) with CRC(b) of `len`
/// bytes is multmodp(shift_of(len), CRC(a)) ^ CRC(b).
fn shift_of(len: u64) -> u32 {
    let mut p = 1 << 31; // x^0
    let mut n = len;
    let mut k = 3; // 8 = 2^3
    while n != 0 {
        if n & 1 != 0 {
            p = multmodp(X2N[k & 31], p);
        }
        n >>= 1;
        k += 1;
    }
    p
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::checks::Outcome;
    use crate::engine::{load_plan, Engine, Evaluation};
    use crate::exposition::Incremental;

    fn gunzip(gz: &[u8]) -> String {
        let mut text = String::new();
        // GzDecoder checks the trailer's CRC-32 and size.
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(gz), &mut text).unwrap();
        text
    }

    fn engine_of(dir: &std::path::Path, checks: usize) -> Arc<Engine> {
        let file = dir.join("config.yaml");
        let mut config = String::from("checks:\n");
        for i in 0..checks {
            config.push_str(&format!(
                "  - {{ name: check_{i:04}, kind: command, params: {{ argv: [\"true\"] }} }}\n"
            ));
        }
        std::fs::write(&file, config).unwrap();
        Engine::new(&file, load_plan(&file).unwrap(), None)
    }

    fn run(engine: &Engine, checks: &[usize], outcome: impl Fn(usize) -> Outcome) {
        let plan = engine.plan();
        for &i in checks {
            let planned = &plan.checks[i];
            let evaluation = Evaluation {
                outcome: outcome(i),
                duration: Duration::from_millis(i as u64 + 1),
                finished: SystemTime::now(),
                trace: Vec::new(),
            };
            engine
                .store
                .record(&planned.spec.name, planned.id, &evaluation);
        }
    }

    #[test]
    fn only_changed_segments_are_compressed_again() {
        let dir = tempfile::tempdir().unwrap();
        // Several segments per family: 2,000 checks, 40 to 450 bytes of
        // each family a check.
        let engine = engine_of(dir.path(), 2000);
        let all: Vec<usize> = (0..2000).collect();
        run(&engine, &all, |_| Outcome::pass("ok"));
        let (mut text, mut gz) = (Incremental::default(), IncrementalGzip::default());
        let page = Arc::new(text.render(&engine));
        let first = gz.compress(page.clone());
        assert_eq!(gunzip(&first), page.to_text());
        assert_eq!(
            gz.compressed(),
            page.len(),
            "the first page is compressed whole"
        );
        // Two checks of the first group ran again, one of them failing.
        run(&engine, &[3, 5], |i| {
            Outcome::fail(format!("check {i}")).observed(2.0)
        });
        let page = Arc::new(text.render(&engine));
        let second = gz.compress(page.clone());
        assert_eq!(gunzip(&second), page.to_text());
        assert!(
            gz.compressed() > 0 && gz.compressed() < page.len() / 4,
            "compressed {} of {}",
            gz.compressed(),
            page.len()
        );
        assert!(gunzip(&second).contains("prodready_check_state{check=\"check_0005\",category=\"deployment\",severity=\"warning\",state=\"fail\"} 1"));
        // Nothing ran: only what is not per check is compressed again.
        let page = Arc::new(text.render(&engine));
        assert_eq!(gunzip(&gz.compress(page.clone())), page.to_text());
        assert!(gz.compressed() < page.len() / 20, "{}", gz.compressed());
        // Other checks (a reload): compressed whole, still the page.
        let other = engine_of(dir.path(), 5);
        run(&other, &[0, 1, 2, 3, 4], |_| Outcome::error("down"));
        let page = Arc::new(text.render(&other));
        assert_eq!(gunzip(&gz.compress(page.clone())), page.to_text());
        assert_eq!(gz.compressed(), page.len());
    }

    fn crc_of(data: &[u8]) -> u32 {
        let mut crc = Crc::new();
        crc.update(data);
        crc.sum()
    }

    #[test]
    fn crcs_combine_as_the_concatenation() {
        let data: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for cut in [0, 1, 7, 64, 4096, 65_537, 70_000] {
            let (a, b) = data.split_at(cut);
            let combined = multmodp(shift_of(b.len() as u64), crc_of(a)) ^ crc_of(b);
            assert_eq!(combined, crc_of(&data), "cut at {cut}");
        }
    }

    #[test]
    fn segments_decompress_as_one_stream() {
        let mut compressor = Compress::new(Compression::fast(), false);
        let parts: [&[u8]; 4] = [b"# HELP a\n", b"", &[b'x'; 100_000], b"a{check=\"1\"} 1\n"];
        let mut stream = Vec::new();
        let mut crc = 0;
        for p in parts {
            let s = deflate(&mut compressor, p);
            stream.extend_from_slice(&s.deflated);
            crc = multmodp(s.shift, crc) ^ s.crc;
        }
        stream.extend_from_slice(&FINAL_BLOCK);
        let mut text = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::DeflateDecoder::new(&stream[..]),
            &mut text,
        )
        .unwrap();
        assert_eq!(text, parts.concat());
        assert_eq!(crc, crc_of(&text));
    }
}
