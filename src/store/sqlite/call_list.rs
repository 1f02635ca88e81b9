//! Lists of campaigncalls on SQLite: one statement per set of filters, so that each walks an
//! index newest first and stops after a page.
//!
//! `seq` is the rowid, so every index of `campaigncalls` ends with it: `(campaign_id,
//! disposition)` yields a campaign's calls of one disposition already in `seq` order, and the
//! keyset bound `seq < ?` is a range on that index. Migration 0018 gives the agent and the digits
//! filters partial indexes of their own, per campaign and per customer (the digits' on the
//! `digits` column since 0021, which holds no entry for a call that collected none since
//! 0022: an empty `digits` filter reads the rows); any filter left over is
//! checked on the rows the narrowest index gives, still in order, reading no further than the
//! page.

use super::{campaigncall_from_row, page_bounds, page_cut};
use crate::domain::Campaigncall;
use crate::store::{CallFilter, Listed, Page, StoreResult};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use uuid::Uuid;

/// Writes after `q` the statement listing `customer`'s campaigncalls that pass `filter`,
/// newest first, before `before` (a `seq`), at most `limit`.
fn push_statement(
    q: &mut QueryBuilder<'static, Sqlite>,
    customer: Uuid,
    filter: &CallFilter,
    before: i64,
    limit: i64,
) {
    // With a campaign, `+customer_id` keeps SQLite off the customer's indexes: the campaign's
    // are narrower.
    let customer_column = if filter.campaign.is_some() {
        "SELECT * FROM campaigncalls WHERE +customer_id = "
    } else {
        "SELECT * FROM campaigncalls WHERE customer_id = "
    };
    q.push(customer_column).push_bind(customer.to_string());
    if let Some(campaign) = filter.campaign {
        q.push(" AND campaign_id = ")
            .push_bind(campaign.to_string());
        // Only a live campaign's calls: checked in the same statement (a constant condition,
        // looked up once), so that a page is one round trip to the reader's thread, not two.
        q.push(" AND EXISTS (SELECT 1 FROM documents WHERE kind = 'campaign' AND id = ")
            .push_bind(campaign.to_string())
            .push(" AND customer_id = ")
            .push_bind(customer.to_string())
            .push(" AND deleted = 0)");
    }
    if let Some(disposition) = filter.disposition {
        q.push(" AND disposition = ")
            .push_bind(disposition.as_str());
    }
    if let Some(agent) = filter.agent {
        q.push(" AND agent_id = ").push_bind(agent.to_string());
    }
    match filter.digits.as_deref() {
        // The calls whose flow collected nothing: their `digits` is NULL (migration 0022), as
        // is that of a call that ran no flow, which the flow's own record tells apart.
        Some("") => {
            q.push(" AND digits IS NULL AND json_extract(flow_result, '$.digits') = ''");
        }
        Some(digits) => {
            q.push(" AND digits = ").push_bind(digits.to_string());
        }
        None => {}
    }
    q.push(" AND seq < ").push_bind(before);
    q.push(" ORDER BY seq DESC LIMIT ").push_bind(limit);
}

/// One page of `customer`'s campaigncalls that pass `filter`.
pub(super) async fn list(
    conn: &mut SqliteConnection,
    customer: Uuid,
    filter: &CallFilter,
    page: &Page,
) -> StoreResult<Listed<Campaigncall>> {
    let (size, before) = page_bounds(page);
    let mut q = QueryBuilder::new("");
    push_statement(&mut q, customer, filter, before, size + 1);
    let rows = q.build().fetch_all(conn).await?;
    let (kept, next_page_token) = page_cut(&rows, size, page);
    Ok(Listed {
        next_page_token,
        result: rows
            .iter()
            .take(kept)
            .map(campaigncall_from_row)
            .collect::<Result<_, _>>()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Disposition;
    use crate::store::sqlite::SqliteStore;
    use sqlx::Row;

    /// SQLite's plan for the statement of `filter`, one line per step.
    async fn plan(store: &SqliteStore, filter: &CallFilter) -> String {
        let mut q = QueryBuilder::new("EXPLAIN QUERY PLAN ");
        push_statement(&mut q, Uuid::nil(), filter, i64::MAX, 26);
        let rows = q.build().fetch_all(&store.pool).await.expect("plan");
        rows.iter()
            .map(|r| r.get::<String, _>("detail"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[tokio::test]
    async fn each_filter_walks_an_index_in_order_without_sorting() {
        let store = SqliteStore::open("sqlite::memory:").await.expect("open");
        let campaign = Some(Uuid::new_v4());
        let by_disposition = plan(
            &store,
            &CallFilter {
                campaign,
                disposition: Some(Disposition::Busy),
                ..Default::default()
            },
        )
        .await;
        assert!(
            by_disposition.contains(
                "campaigncalls_by_disposition (campaign_id=? AND disposition=? AND rowid<?)"
            ),
            "{by_disposition}"
        );
        let by_agent = plan(
            &store,
            &CallFilter {
                campaign,
                agent: Some(Uuid::new_v4()),
                ..Default::default()
            },
        )
        .await;
        assert!(by_agent.contains("campaigncalls_by_agent"), "{by_agent}");
        for filter in [
            CallFilter {
                campaign,
                ..Default::default()
            },
            CallFilter {
                campaign,
                agent: Some(Uuid::new_v4()),
                digits: Some("1".into()),
                ..Default::default()
            },
            CallFilter {
                disposition: Some(Disposition::Answered),
                ..Default::default()
            },
            CallFilter::default(),
        ] {
            let plan = plan(&store, &filter).await;
            assert!(plan.contains("USING INDEX"), "{filter:?}: {plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{filter:?}: {plan}");
        }
    }
}
