//! Splitting a fleet's checks across replicas.

/// One replica's share of the checks when a fleet is split across
/// replicas: a check belongs to the shard its name's stable hash falls in,
/// so every replica computes the same split and each check runs exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub count: u32,
    pub index: u32,
}

impl Shard {
    /// Whether the check named `name` belongs to this shard.
    pub fn contains(self, name: &str) -> bool {
        // FNV-1a: stable across builds and platforms, unlike std's hasher.
        let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        hash % u64::from(self.count.max(1)) == u64::from(self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::Shard;

    #[test]
    fn every_name_falls_in_exactly_one_shard() {
        let names: Vec<String> = (0..3000).map(|i| format!("check_{i}")).collect();
        let shards: Vec<Shard> = (0..3).map(|index| Shard { count: 3, index }).collect();
        for n in &names {
            assert_eq!(shards.iter().filter(|s| s.contains(n)).count(), 1, "{n}");
        }
        for s in &shards {
            let share = names.iter().filter(|n| s.contains(n)).count();
            assert!(
                (800..1200).contains(&share),
                "shard {} holds {share}",
                s.index
            );
        }
        assert!(names
            .iter()
            .all(|n| Shard { count: 1, index: 0 }.contains(n)));
    }
}
