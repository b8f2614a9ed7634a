//! How many uses an invite allows: `maxUses`, or no limit at all for a public
//! invite made with unlimited uses (better-invite's `infinityMaxUses`, offered
//! with `INFINITY_MAX_USES`). The one place the seat rule is written: the
//! aggregate's decisions, the `invite` view's status and the answers ask here.

use super::InviteTerms;

/// An invite's use limit as it was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UseLimit {
    /// The plugin stores 1 here for an unlimited invite, and so does the ledger.
    pub max_uses: u32,
    pub unlimited: bool,
}

impl UseLimit {
    /// Whether `taken` uses (and held seats) leave no seat.
    pub fn used_up(self, taken: u32) -> bool {
        !self.unlimited && taken >= self.max_uses
    }

    /// Seats left after `taken`; `None` when there is no limit.
    pub fn left(self, taken: u32) -> Option<u32> {
        (!self.unlimited).then(|| self.max_uses.saturating_sub(taken))
    }
}

impl InviteTerms {
    pub fn use_limit(&self) -> UseLimit {
        UseLimit {
            max_uses: self.max_uses,
            unlimited: self.infinity_max_uses,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limited_invite_runs_out_and_an_unlimited_one_never_does() {
        let two = UseLimit {
            max_uses: 2,
            unlimited: false,
        };
        assert!(!two.used_up(1));
        assert!(two.used_up(2));
        assert_eq!(two.left(1), Some(1));
        assert_eq!(two.left(5), Some(0));

        let unlimited = UseLimit {
            max_uses: 1,
            unlimited: true,
        };
        assert!(!unlimited.used_up(1));
        assert!(!unlimited.used_up(u32::MAX));
        assert_eq!(unlimited.left(1_000), None);
    }
}
