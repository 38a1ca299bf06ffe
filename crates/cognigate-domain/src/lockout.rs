//! How long guessing is slowed after repeated failures: the one schedule the engine (per user, as Cognito
//! does) and the auth API (per account and address, and per account) both follow.
//!
//! A fixed lock ("five failures, thirty minutes") hands anyone who knows an address a way to keep its owner
//! out, and a reset that cannot lift it makes that worse. A doubling delay keeps a guesser slow — each try
//! past the threshold costs twice the last — while one failure more or less barely changes what the owner
//! waits, and the cap bounds it.

/// The wait before the next attempt after `failures` failures in a row: none below `threshold`, then 1 s,
/// doubling with every further failure, at most `cap_secs` (and at least a second once it applies).
pub fn delay_secs(failures: u32, threshold: u32, cap_secs: u64) -> Option<u64> {
    let over = failures.checked_sub(threshold.max(1))?;
    Some(1u64.checked_shl(over.min(62)).unwrap_or(u64::MAX).min(cap_secs.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_starts_at_the_threshold_doubles_and_is_capped() {
        let delays: Vec<Option<u64>> = (0..=8).map(|failures| delay_secs(failures, 5, 10)).collect();
        assert_eq!(delays, [None, None, None, None, None, Some(1), Some(2), Some(4), Some(8)]);
        assert_eq!(delay_secs(9, 5, 10), Some(10));
        assert_eq!(delay_secs(u32::MAX, 5, 1800), Some(1800));
        assert_eq!(delay_secs(1, 0, 0), Some(1), "a zero threshold and cap still mean a second");
    }
}
