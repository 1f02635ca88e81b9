//! Ended attempts by campaign and disposition. Each campaign's counters are an array of
//! atomics, found once per write batch; the map of campaigns is locked only to add one and to
//! be read by a scrape.

use super::exposition::{Kind, Labels, Writer};
use crate::domain::{Campaign, Disposition};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use uuid::Uuid;

/// The dispositions an attempt can end with. `dnc` is not one: a number on a do-not-call list
/// is recorded but never dialed (the stats' `attempts` leave it out too).
pub const COUNTED: [Disposition; 12] = [
    Disposition::Answered,
    Disposition::Busy,
    Disposition::NoAnswer,
    Disposition::Rejected,
    Disposition::InvalidNumber,
    Disposition::Unauthorized,
    Disposition::Failed,
    Disposition::Cancelled,
    Disposition::Unknown,
    Disposition::OptedOut,
    Disposition::Abandoned,
    Disposition::Machine,
];

fn index(d: Disposition) -> Option<usize> {
    COUNTED.iter().position(|c| *c == d)
}

/// One campaign's ended attempts.
#[derive(Debug)]
struct CampaignAttempts {
    customer_id: Uuid,
    counts: [AtomicU64; COUNTED.len()],
}

/// Every campaign's ended attempts since the process started.
#[derive(Debug, Default)]
pub struct AttemptCounters {
    campaigns: RwLock<HashMap<Uuid, Arc<CampaignAttempts>>>,
}

impl AttemptCounters {
    fn campaign(&self, campaign: Uuid, customer_id: Uuid) -> Option<Arc<CampaignAttempts>> {
        if let Some(c) = self.campaigns.read().ok()?.get(&campaign) {
            return Some(c.clone());
        }
        let mut all = self.campaigns.write().ok()?;
        Some(
            all.entry(campaign)
                .or_insert_with(|| {
                    Arc::new(CampaignAttempts {
                        customer_id,
                        counts: Default::default(),
                    })
                })
                .clone(),
        )
    }

    /// Adds the attempts `tally` counted (once they are durable). Returns how many.
    pub fn add(&self, tally: &AttemptTally) -> u64 {
        let Some(c) = self.campaign(tally.campaign, tally.customer_id) else {
            return 0;
        };
        let mut total = 0;
        for (i, n) in tally.counts.iter().enumerate() {
            if *n > 0 {
                c.counts[i].fetch_add(u64::from(*n), Ordering::Relaxed);
                total += u64::from(*n);
            }
        }
        total
    }

    /// Writes `ringmaster_attempts_total`: every counted disposition of every campaign seen,
    /// zeros included (so that ratios over them exist from the first attempt).
    pub fn write(&self, out: &mut Writer) {
        out.family(
            "ringmaster_attempts_total",
            Kind::Counter,
            "Dial attempts ended and durably recorded since the process started, by campaign and disposition.",
        );
        let Ok(all) = self.campaigns.read() else {
            return;
        };
        let mut ids: Vec<&Uuid> = all.keys().collect();
        ids.sort();
        for id in ids {
            let c = &all[id];
            let labels = Labels::one("customer_id", c.customer_id.to_string())
                .with("campaign_id", id.to_string());
            for (d, n) in COUNTED.iter().zip(&c.counts) {
                out.sample(
                    "ringmaster_attempts_total",
                    &labels.with("disposition", d.as_str()),
                    n.load(Ordering::Relaxed) as f64,
                );
            }
        }
    }
}

/// A write batch's ended attempts, counted before the write and added once it is committed.
#[derive(Debug, Clone)]
pub struct AttemptTally {
    campaign: Uuid,
    customer_id: Uuid,
    counts: [u32; COUNTED.len()],
}

impl AttemptTally {
    /// Counts `dispositions`, the ends of `campaign`'s attempts in one write.
    pub fn new(
        campaign: &Campaign,
        dispositions: impl Iterator<Item = Disposition>,
    ) -> AttemptTally {
        AttemptTally::of(campaign.id, campaign.customer_id, dispositions)
    }

    /// [`AttemptTally::new`] by ids.
    pub fn of(
        campaign: Uuid,
        customer_id: Uuid,
        dispositions: impl Iterator<Item = Disposition>,
    ) -> AttemptTally {
        let mut counts = [0; COUNTED.len()];
        for i in dispositions.filter_map(index) {
            counts[i] += 1;
        }
        AttemptTally {
            campaign,
            customer_id,
            counts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_tallies_add_up_per_campaign_and_disposition_without_dnc() {
        let counters = AttemptCounters::default();
        let (campaign, customer) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let tally =
            |ends: &[Disposition]| AttemptTally::of(campaign, customer, ends.iter().copied());
        let ends = [
            Disposition::Answered,
            Disposition::Busy,
            Disposition::Answered,
            Disposition::Dnc,
        ];
        assert_eq!(counters.add(&tally(&ends)), 3);
        assert_eq!(counters.add(&tally(&[Disposition::Busy])), 1);
        let mut w = Writer::default();
        counters.write(&mut w);
        let text = w.finish();
        let prefix =
            "ringmaster_attempts_total{customer_id=\"00000000-0000-0000-0000-000000000002\",\
                      campaign_id=\"00000000-0000-0000-0000-000000000001\",disposition=";
        assert!(
            text.contains(&format!("{prefix}\"answered\"}} 2\n")),
            "{text}"
        );
        assert!(text.contains(&format!("{prefix}\"busy\"}} 2\n")), "{text}");
        assert!(
            text.contains(&format!("{prefix}\"machine\"}} 0\n")),
            "{text}"
        );
        assert!(!text.contains("\"dnc\""), "{text}");
    }
}
