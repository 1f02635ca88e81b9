//! The campaign the load runners dial: one try per target, numbers that SIPp's
//! `uas_by_number.xml` answers (+155501 followed by seven digits from 1000000).

use ringmaster::demo::sample;
use ringmaster::domain::Campaign;
use ringmaster::store::Store;

/// Creates a sample campaign of `targets` targets, each tried once.
pub async fn one_try_campaign(store: &dyn Store, targets: usize) -> anyhow::Result<Campaign> {
    let numbers: Vec<String> = (0..targets)
        .map(|i| format!("+155501{:07}", 1_000_000 + i))
        .collect();
    let plan = sample::Plan {
        dial_timeout: 10_000,
        try_interval: 1000,
        max_tries: 1,
    };
    sample::create(store, &numbers, plan, Vec::new()).await
}
