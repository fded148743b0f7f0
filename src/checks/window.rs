//! Judging cumulative counters (hit ratios, statement call counts and times)
//! by their change over a window instead of their lifetime totals, so that a
//! regression shows at once and a fix counts as soon as it lands. Two samples
//! are taken either within one evaluation (`window` param, for one-shot gate
//! runs) or one per evaluation; until two exist the check is `unknown`, and a
//! counter going backwards (a statistics reset, a restart) starts over.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Outcome, ParamError};
use crate::config::{format_duration, ConfigDuration};

/// Cumulative counters that can be subtracted.
pub trait Counters: Clone + Send {
    /// `self - earlier`, or `None` when a counter went backwards (the
    /// statistics were reset or the server restarted in between).
    fn since(&self, earlier: &Self) -> Option<Self>;
}

/// The change of the counters, or why there is none yet.
#[derive(Debug)]
pub enum Sampled<C> {
    Delta { delta: C, over: Duration },
    NotYet(String),
}

/// Where a windowed check keeps its previous sample.
#[derive(Debug)]
pub struct Window<C> {
    within: Option<Duration>,
    previous: Mutex<Option<(Instant, C)>>,
}

impl<C: Counters> Window<C> {
    /// From a kind's `window` param: `None` judges the change between two
    /// evaluations; a duration samples twice within one evaluation and must
    /// leave room in the check's `timeout`.
    pub fn from_param(
        window: Option<ConfigDuration>,
        timeout: Duration,
    ) -> Result<Window<C>, ParamError> {
        if let Some(w) = window {
            if w.0.is_zero() || w.0 * 2 > timeout {
                return Err(ParamError::param(
                    "window",
                    format!(
                        "must be longer than 0s and at most half the check's timeout ({}): both samples and the wait must fit in it",
                        format_duration(timeout)
                    ),
                ));
            }
        }
        Ok(Window {
            within: window.map(|w| w.0),
            previous: Mutex::new(None),
        })
    }

    /// What the window's width says in messages.
    pub fn describe(&self, over: Duration) -> String {
        let whole = format_duration(Duration::from_secs(over.as_secs().max(1)));
        match self.within {
            Some(_) => format!("over a {whole} window"),
            None => format!("since the previous evaluation {whole} ago"),
        }
    }

    /// Takes the sample(s) and returns the change.
    pub async fn sample<F, Fut>(&self, mut take: F) -> Result<Sampled<C>, Outcome>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<C, Outcome>>,
    {
        if let Some(width) = self.within {
            let first = take().await?;
            let started = Instant::now();
            tokio::time::sleep(width).await;
            let second = take().await?;
            return Ok(match second.since(&first) {
                Some(delta) => Sampled::Delta {
                    delta,
                    over: started.elapsed(),
                },
                None => Sampled::NotYet(
                    "the statistics were reset during the window; nothing to judge".into(),
                ),
            });
        }
        let now = take().await?;
        let previous = self
            .previous
            .lock()
            .map(|mut p| p.replace((Instant::now(), now.clone())))
            .unwrap_or(None);
        Ok(match previous {
            None => Sampled::NotYet(
                "first sample taken: judged on the change from the next evaluation on (set `window` to judge within one run)".into(),
            ),
            Some((at, earlier)) => match now.since(&earlier) {
                Some(delta) => Sampled::Delta {
                    delta,
                    over: at.elapsed(),
                },
                None => Sampled::NotYet(
                    "the statistics were reset or the server restarted since the previous evaluation: judged from the next one on".into(),
                ),
            },
        })
    }
}

/// Counters keyed by statement: an entry that is new, or whose counters went
/// backwards (evicted and re-added), counts from zero.
impl<K, V> Counters for std::collections::BTreeMap<K, V>
where
    K: Ord + Clone + Send,
    V: Counters,
{
    fn since(&self, earlier: &Self) -> Option<Self> {
        Some(
            self.iter()
                .map(|(k, v)| {
                    let d = earlier
                        .get(k)
                        .and_then(|e| v.since(e))
                        .unwrap_or_else(|| v.clone());
                    (k.clone(), d)
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Hits(u64);

    impl Counters for Hits {
        fn since(&self, earlier: &Self) -> Option<Self> {
            self.0.checked_sub(earlier.0).map(Hits)
        }
    }

    #[tokio::test]
    async fn between_evaluations_the_first_is_not_yet_and_a_reset_starts_over() {
        let w: Window<Hits> = Window::from_param(None, Duration::from_secs(10)).unwrap();
        let values = std::sync::Mutex::new(vec![100u64, 150, 20, 70]);
        let next = || {
            let v = values.lock().unwrap().remove(0);
            async move { Ok(Hits(v)) }
        };
        assert!(matches!(w.sample(next).await, Ok(Sampled::NotYet(_))));
        assert!(matches!(
            w.sample(next).await,
            Ok(Sampled::Delta {
                delta: Hits(50),
                ..
            })
        ));
        assert!(matches!(w.sample(next).await, Ok(Sampled::NotYet(m)) if m.contains("reset")));
        assert!(matches!(
            w.sample(next).await,
            Ok(Sampled::Delta {
                delta: Hits(50),
                ..
            })
        ));
    }

    #[test]
    fn a_window_must_fit_in_the_timeout() {
        let ok = Window::<Hits>::from_param(
            Some(ConfigDuration(Duration::from_secs(2))),
            Duration::from_secs(10),
        );
        assert!(ok.is_ok());
        let too_long = Window::<Hits>::from_param(
            Some(ConfigDuration(Duration::from_secs(6))),
            Duration::from_secs(10),
        );
        assert!(too_long.is_err());
    }

    #[test]
    fn keyed_counters_restart_entries_that_went_backwards() {
        use std::collections::BTreeMap;
        let earlier = BTreeMap::from([("a", Hits(10)), ("b", Hits(50))]);
        let now = BTreeMap::from([("a", Hits(15)), ("b", Hits(5)), ("c", Hits(7))]);
        let d = now.since(&earlier).unwrap();
        assert_eq!(
            d,
            BTreeMap::from([("a", Hits(5)), ("b", Hits(5)), ("c", Hits(7))])
        );
    }
}
