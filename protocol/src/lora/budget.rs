//! The duty-cycle budget of one radio: airtime spent over a sliding hour never exceeds
//! `duty × 1 h` (ETSI EN 300 220: 1 % on most EU868 sub-bands, 10 % on 869.4–869.65 MHz).

use std::collections::VecDeque;

/// The regulatory window.
pub const WINDOW_MS: u64 = 3_600_000;

/// Airtime spent in the last hour, and the limit.
#[derive(Debug, Clone)]
pub struct DutyBudget {
    limit_us: u64,
    /// (start ms, airtime µs), oldest first.
    sent: VecDeque<(u64, u64)>,
    used_us: u64,
}

impl DutyBudget {
    /// A budget of `duty` (0.0–1.0) of every hour.
    pub fn new(duty: f64) -> Self {
        let duty = if duty.is_finite() {
            duty.clamp(0.0, 1.0)
        } else {
            0.0
        };
        DutyBudget {
            limit_us: (duty * WINDOW_MS as f64 * 1000.0) as u64,
            sent: VecDeque::new(),
            used_us: 0,
        }
    }

    /// The airtime allowed per hour, in microseconds.
    pub fn limit_us(&self) -> u64 {
        self.limit_us
    }

    fn expire(&mut self, now_ms: u64) {
        while let Some(&(at, us)) = self.sent.front() {
            // A transmission counts until its end leaves the window.
            if at + us.div_ceil(1000) + WINDOW_MS > now_ms {
                break;
            }
            self.used_us -= us;
            self.sent.pop_front();
        }
    }

    /// Airtime spent in the hour before `now_ms`, in microseconds.
    pub fn used_us(&mut self, now_ms: u64) -> u64 {
        self.expire(now_ms);
        self.used_us
    }

    /// May a frame of `airtime_us` start at `now_ms`?
    pub fn allows(&mut self, now_ms: u64, airtime_us: u64) -> bool {
        self.used_us(now_ms) + airtime_us <= self.limit_us
    }

    /// Records a transmission that starts at `now_ms`.
    pub fn record(&mut self, now_ms: u64, airtime_us: u64) {
        self.expire(now_ms);
        self.used_us += airtime_us;
        self.sent.push_back((now_ms, airtime_us));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_percent_is_36_seconds_per_sliding_hour() {
        let mut b = DutyBudget::new(0.01);
        assert_eq!(b.limit_us(), 36_000_000);
        let mut t = 0;
        let mut sent = 0u64;
        while b.allows(t, 1_000_000) {
            b.record(t, 1_000_000);
            sent += 1;
            t += 1000;
        }
        assert_eq!(sent, 36);
        assert!(
            !b.allows(WINDOW_MS, 1_000_000),
            "the first second is still in the window"
        );
        assert!(b.allows(WINDOW_MS + 1000, 1_000_000));
        assert_eq!(DutyBudget::new(f64::NAN).limit_us(), 0);
    }
}
