//! Bulk inserts of new targets (imports): multi-row `INSERT OR IGNORE` statements of up to 256
//! rows (see `apply.rs` for how their `VALUES` lists are bound and padded), so that a
//! transaction of thousands of rows is a few dozen statements rather than one per row. A row
//! whose outdial already has its number (or that repeats one of the same request) is not
//! inserted and comes back as a duplicate.

use super::apply::{Bulk, Rows};
use super::{to_json, uuid, zones_text};
use crate::fast::FastSet;
use crate::store::{InsertReport, NewTarget, StoreResult};
use sqlx::SqliteConnection;
use uuid::Uuid;

/// Rows per statement: the longest `VALUES` list.
const ROWS_PER_STATEMENT: usize = 256;

static INSERT_TARGETS: Bulk = Bulk::new(
    "id, outdial_id, dedupe, name, detail, data, destinations, status,
     try_count_0, try_count_1, try_count_2, try_count_3, try_count_4,
     tm_create, tm_update, tm_delete, timezone, zones",
    "INSERT OR IGNORE INTO targets (id, customer_id, outdial_id, dedupe, name, detail, data,
       destinations, status, result, next_at, try_count_0, try_count_1, try_count_2,
       try_count_3, try_count_4, tm_create, tm_update, tm_delete, timezone, zones)
     SELECT v.id, d.customer_id, v.outdial_id, dedupe, name, detail, data, destinations,
       v.status, '', 0, try_count_0, try_count_1, try_count_2, try_count_3, try_count_4,
       tm_create, tm_update, tm_delete, timezone, zones
     FROM v JOIN documents d ON d.kind = 'outdial' AND d.id = v.outdial_id
     WHERE v.id IS NOT NULL",
);

/// Of the ids given, those with no target: the rows an insert ignored.
static NOT_INSERTED: Bulk = Bulk::new(
    "id",
    "SELECT v.id FROM v WHERE v.id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM targets t WHERE t.id = v.id)",
);

/// Inserts `targets` on `conn` (inside the caller's transaction), each into its outdial with
/// the outdial's customer; a target of an outdial that does not exist is not inserted. The
/// first statement writes, so that the transaction holds the write lock before it reads (see
/// `events::doc_event`).
pub(super) async fn insert_targets(
    conn: &mut SqliteConnection,
    targets: Vec<NewTarget>,
) -> StoreResult<InsertReport> {
    let mut report = InsertReport {
        created: Vec::with_capacity(targets.len()),
        duplicates: Vec::new(),
    };
    let mut rest = targets.into_iter().peekable();
    while rest.peek().is_some() {
        let chunk: Vec<NewTarget> = rest.by_ref().take(ROWS_PER_STATEMENT).collect();
        let mut rows = Rows::new(&INSERT_TARGETS);
        let mut ids = Rows::new(&NOT_INSERTED);
        for new in &chunk {
            let t = &new.target;
            let tries = t.tries.to_array();
            rows.push([
                t.id.into(),
                t.outdial_id.into(),
                new.dedupe.as_str().into(),
                t.name.as_str().into(),
                t.detail.as_str().into(),
                to_json(&t.data)?.into(),
                to_json(&t.destinations)?.into(),
                t.status.as_str().into(),
                tries[0].into(),
                tries[1].into(),
                tries[2].into(),
                tries[3].into(),
                tries[4].into(),
                t.tm_create.as_str().into(),
                t.tm_update.as_str().into(),
                t.tm_delete.as_str().into(),
                t.timezone.as_str().into(),
                zones_text(&t.zones).into(),
            ]);
            ids.push([t.id.into()]);
        }
        let (inserted, _) = rows.execute(conn).await?;
        // Every row inserted (the usual case): no need to ask which were not.
        let ignored: FastSet<Uuid> = if inserted == chunk.len() as u64 {
            FastSet::default()
        } else {
            ids.run(conn)
                .await?
                .iter()
                .map(|r| uuid(r, "id"))
                .collect::<StoreResult<_>>()?
        };
        for new in chunk {
            if ignored.contains(&new.target.id) {
                report.duplicates.push(new.dedupe);
            } else {
                report.created.push(new.target);
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::super::tests::store_with_targets;
    use crate::domain::Address;
    use crate::store::{NewTarget, Store};
    use uuid::Uuid;

    fn new_target(like: &crate::domain::Target, i: usize) -> NewTarget {
        let number = format!("+1212{i:07}");
        let mut target = like.clone();
        target.id = Uuid::now_v7();
        target.destinations.destination_0 = Some(Address::tel(number.parse().expect("E.164")));
        NewTarget {
            target,
            dedupe: number,
        }
    }

    #[tokio::test]
    async fn rows_already_in_the_outdial_or_repeated_come_back_as_duplicates_in_any_statement() {
        let (store, existing) = store_with_targets(1).await;
        let like = &existing[0];
        // 600 rows: three statements; row 300 repeats row 10, row 500 is already stored.
        let mut rows: Vec<NewTarget> = (0..600).map(|i| new_target(like, i)).collect();
        rows[300] = new_target(like, 10);
        rows[500].dedupe = like
            .destinations
            .destination_0
            .as_ref()
            .expect("number")
            .kind
            .target();
        // A target of an outdial that does not exist is not inserted.
        let mut stray = new_target(like, 900);
        stray.target.outdial_id = Uuid::new_v4();
        rows.push(stray);
        let report = store.insert_targets(rows).await.expect("insert");
        assert_eq!(report.created.len(), 598);
        assert_eq!(
            report.duplicates,
            [
                "+12120000010".to_string(),
                report.duplicates[1].clone(),
                "+12120000900".into()
            ]
        );
        assert_eq!(
            report.duplicates[1],
            like.destinations
                .destination_0
                .as_ref()
                .expect("n")
                .kind
                .target()
        );
        let stored = store
            .get_target(like.outdial_id, report.created[597].id)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(stored.name, like.name);

        // Every row is a duplicate the second time.
        let again: Vec<NewTarget> = (0..300).map(|i| new_target(like, i)).collect();
        let report = store.insert_targets(again).await.expect("insert");
        assert!(report.created.is_empty());
        assert_eq!(report.duplicates.len(), 300);
    }
}
