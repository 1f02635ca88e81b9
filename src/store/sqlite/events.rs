//! Events and webhook outboxes on SQLite. An event row is written in the transaction of the
//! change it describes (see `apply.rs` for the dialer's writes and `put_doc` for campaigns);
//! a webhook's cursor moves through the events, queueing the ones it wants as deliveries in
//! one transaction, so that neither a restart nor a failed POST loses one.
//!
//! The rows are written to `event_rows` and read through the `events` view, which renders a
//! campaigncall's event from the call's row (migration 0020): the readers here (the stream,
//! its replay, the webhooks' outboxes) see every event with its `data`.

use super::{page_bounds, page_cut, uuid, DocKind, StoreError, StoreResult};
use crate::domain::{Delivery, DeliveryStatus, Event, EventType, NewEvent, Webhook, WebhookStatus};
use crate::store::{EventFilter, Listed, Page};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};
use uuid::Uuid;

/// The id of the last event ever recorded (0 when none), pruned ones included.
pub(super) async fn last_id(pool: &SqlitePool) -> StoreResult<i64> {
    let seq: Option<i64> =
        sqlx::query_scalar("SELECT seq FROM sqlite_sequence WHERE name = 'event_rows'")
            .fetch_optional(pool)
            .await?;
    Ok(seq.unwrap_or(0))
}

/// The event a write of a document makes, if its kind has events: created when no row of it
/// exists yet, deleted when it is being deleted, updated otherwise. Its first statement
/// writes (a no-op `UPDATE`), so that the transaction holds the write lock before it reads:
/// a read first would make the later write fail at once (`SQLITE_BUSY_SNAPSHOT`) whenever
/// another connection committed in between.
pub(super) async fn doc_event(
    conn: &mut SqliteConnection,
    kind: DocKind,
    id: Uuid,
    deleted: bool,
) -> StoreResult<Option<EventType>> {
    if kind != DocKind::Campaign {
        return Ok(None);
    }
    let exists = sqlx::query("UPDATE documents SET deleted = deleted WHERE kind = ? AND id = ?")
        .bind(kind.as_str())
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?
        .rows_affected()
        > 0;
    Ok(Some(match (exists, deleted) {
        (_, true) => EventType::CampaignDeleted,
        (false, false) => EventType::CampaignCreated,
        (true, false) => EventType::CampaignUpdated,
    }))
}

/// A new webhook's cursor: it is sent the events recorded after it was made.
pub(super) async fn start_cursor(conn: &mut SqliteConnection, webhook: Uuid) -> StoreResult<()> {
    sqlx::query(
        "INSERT OR IGNORE INTO webhook_cursors (webhook_id, event_id)
         SELECT ?, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'event_rows'), 0)",
    )
    .bind(webhook.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records one event; returns its id.
pub(super) async fn insert(conn: &mut SqliteConnection, event: &NewEvent) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO event_rows (customer_id, type, resource_id, data, tm_create)
         VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(event.customer_id.to_string())
    .bind(event.kind.as_str())
    .bind(&event.resource_id)
    .bind(&event.data)
    .bind(crate::domain::time::now_string())
    .fetch_one(&mut *conn)
    .await?)
}

/// The types of `filter` as the `instr` pattern the queries take (`,a,b,`; empty: all).
fn types_pattern(types: &[EventType]) -> String {
    if types.is_empty() {
        return String::new();
    }
    let mut s = String::from(",");
    for t in types {
        s.push_str(t.as_str());
        s.push(',');
    }
    s
}

fn event_from_row(row: &SqliteRow) -> StoreResult<Event> {
    let data: &str = row.get("data");
    Ok(Event {
        id: row.get("id"),
        customer_id: uuid(row, "customer_id")?,
        kind: row.get("type"),
        resource_id: row.get("resource_id"),
        data: serde_json::from_str(data).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        tm_create: row.get("tm_create"),
    })
}

pub(super) async fn after(
    pool: &SqlitePool,
    customer: Uuid,
    after: i64,
    filter: &EventFilter,
    limit: u32,
) -> StoreResult<Vec<Event>> {
    let rows = sqlx::query(
        "SELECT * FROM events WHERE customer_id IN (?1, ?2) AND id > ?3
           AND (?4 = '' OR instr(?4, ',' || type || ',') > 0)
           AND (?5 IS NULL OR resource_id = ?5)
         ORDER BY id LIMIT ?6",
    )
    .bind(customer.to_string())
    .bind(Uuid::nil().to_string())
    .bind(after)
    .bind(types_pattern(&filter.types))
    .bind(&filter.resource_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(event_from_row).collect()
}

pub(super) async fn first_id(pool: &SqlitePool) -> StoreResult<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT MIN(id) FROM event_rows")
        .fetch_one(pool)
        .await?)
}

pub(super) async fn prune(pool: &SqlitePool, before: &str, keep_rows: u64) -> StoreResult<u64> {
    let keep = i64::try_from(keep_rows).unwrap_or(i64::MAX);
    // Events an active webhook has not queued yet stay, whatever their age.
    let done = sqlx::query(
        "DELETE FROM event_rows WHERE id <= COALESCE(
           (SELECT MIN(c.event_id) FROM webhook_cursors c JOIN documents d
              ON d.kind = 'webhook' AND d.id = c.webhook_id AND d.status = 'active' AND d.deleted = 0),
           (SELECT MAX(id) FROM event_rows))
         AND (tm_create < ? OR id <= (SELECT MAX(id) FROM event_rows) - ?)",
    )
    .bind(before)
    .bind(keep)
    .execute(pool)
    .await?;
    sqlx::query("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND tm_update < ?")
        .bind(before)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

pub(super) async fn queue(
    pool: &SqlitePool,
    webhook: &Webhook,
    limit: u32,
    now_ms: i64,
) -> StoreResult<u64> {
    if webhook.status != WebhookStatus::Active {
        return Ok(0);
    }
    let mut tx = pool.begin().await?;
    // A write first, for the write lock (see `doc_event`).
    sqlx::query("UPDATE webhook_cursors SET event_id = event_id WHERE webhook_id = ?")
        .bind(webhook.id.to_string())
        .execute(&mut *tx)
        .await?;
    let cursor: Option<i64> =
        sqlx::query_scalar("SELECT event_id FROM webhook_cursors WHERE webhook_id = ?")
            .bind(webhook.id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
    let Some(cursor) = cursor else {
        start_cursor(&mut tx, webhook.id).await?;
        tx.commit().await?;
        return Ok(0);
    };
    let upto: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(id) FROM (SELECT id FROM event_rows WHERE id > ? ORDER BY id LIMIT ?)",
    )
    .bind(cursor)
    .bind(i64::from(limit))
    .fetch_one(&mut *tx)
    .await?;
    let Some(upto) = upto else {
        return Ok(0);
    };
    let now = crate::domain::time::now_string();
    // Each delivery's id is derived from the webhook and the event, so a retried POST and a
    // delivery log entry name the same thing; the body is fixed here, once.
    let queued = sqlx::query(
        "INSERT OR IGNORE INTO webhook_deliveries (id, webhook_id, customer_id, event_id,
           event_type, body, status, attempts, next_at, tm_create, tm_update)
         SELECT ?1 || '-' || e.id, ?1, e.customer_id, e.id, e.type,
           json_object('id', e.id, 'type', e.type, 'customer_id', e.customer_id,
                       'resource_id', e.resource_id, 'data', json(e.data),
                       'tm_create', e.tm_create),
           'pending', 0, ?2, ?3, ?3
         FROM events e
         WHERE e.customer_id IN (?4, ?5) AND e.id > ?6 AND e.id <= ?7
           AND (?8 = '' OR instr(?8, ',' || e.type || ',') > 0)
         ORDER BY e.id",
    )
    .bind(webhook.id.to_string())
    .bind(now_ms)
    .bind(&now)
    .bind(webhook.customer_id.to_string())
    .bind(Uuid::nil().to_string())
    .bind(cursor)
    .bind(upto)
    .bind(types_pattern(&webhook.event_types))
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE webhook_cursors SET event_id = ? WHERE webhook_id = ?")
        .bind(upto)
        .bind(webhook.id.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(queued.rows_affected())
}

fn delivery_from_row(row: &SqliteRow) -> StoreResult<Delivery> {
    let status: &str = row.get("status");
    let id: &str = row.get("id");
    Ok(Delivery {
        id: delivery_uuid(id)?,
        webhook_id: uuid(row, "webhook_id")?,
        event_id: row.get("event_id"),
        event_type: row.get("event_type"),
        status: DeliveryStatus::parse(status)
            .ok_or_else(|| StoreError::Corrupt(format!("delivery status {status:?}")))?,
        attempts: row.get::<i64, _>("attempts").clamp(0, i64::from(u32::MAX)) as u32,
        next_at: row.get("next_at"),
        status_code: row
            .get::<Option<i64>, _>("status_code")
            .and_then(|c| u16::try_from(c).ok()),
        error: row.get("error"),
        tm_create: row.get("tm_create"),
        tm_update: row.get("tm_update"),
        body: row.get("body"),
    })
}

/// A delivery's stored id is `<webhook id>-<event id>`; its API id is a UUID (v8) made of it.
fn delivery_uuid(stored: &str) -> StoreResult<Uuid> {
    let (webhook, event) = stored
        .rsplit_once('-')
        .ok_or_else(|| StoreError::Corrupt(format!("delivery id {stored:?}")))?;
    let webhook = Uuid::parse_str(webhook).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let event: u64 = event
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("delivery id {stored:?}")))?;
    let mixed = webhook.as_u128() ^ u128::from(event);
    Ok(uuid::Builder::from_u128(mixed)
        .with_version(uuid::Version::Custom)
        .with_variant(uuid::Variant::RFC4122)
        .into_uuid())
}

pub(super) async fn due(pool: &SqlitePool, now_ms: i64, limit: u32) -> StoreResult<Vec<Delivery>> {
    let rows = sqlx::query(
        "SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_at <= ?
         ORDER BY next_at, seq LIMIT ?",
    )
    .bind(now_ms)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(delivery_from_row).collect()
}

pub(super) async fn record(pool: &SqlitePool, d: &Delivery) -> StoreResult<()> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_at = ?, status_code = ?,
           error = ?, tm_update = ?
         WHERE webhook_id = ? AND event_id = ?",
    )
    .bind(d.status.as_str())
    .bind(i64::from(d.attempts))
    .bind(d.next_at)
    .bind(d.status_code.map(i64::from))
    .bind(&d.error)
    .bind(&d.tm_update)
    .bind(d.webhook_id.to_string())
    .bind(d.event_id)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn list(
    pool: &SqlitePool,
    webhook: Uuid,
    page: &Page,
) -> StoreResult<Listed<Delivery>> {
    let (size, before) = page_bounds(page);
    let rows = sqlx::query(
        "SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND seq < ?
         ORDER BY seq DESC LIMIT ?",
    )
    .bind(webhook.to_string())
    .bind(before)
    .bind(size + 1)
    .fetch_all(pool)
    .await?;
    let (kept, next_page_token) = page_cut(&rows, size, page);
    Ok(Listed {
        result: rows
            .iter()
            .take(kept)
            .map(delivery_from_row)
            .collect::<Result<_, _>>()?,
        next_page_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::{now_string, NEVER};
    use crate::domain::Disposition;
    use crate::store::sqlite::tests::{answer, begin, store_with_targets};
    use crate::store::{AttemptEnd, Commits, Docs, Store, TargetNext, WriteOp};

    fn begun_for(customer: Uuid, op: WriteOp) -> (WriteOp, Uuid, Uuid) {
        let WriteOp::Begin {
            mut call,
            slot,
            dnc_lists,
        } = op
        else {
            unreachable!()
        };
        call.customer_id = customer;
        let (id, target) = (call.id, call.outdial_target_id);
        (
            WriteOp::Begin {
                call,
                slot,
                dnc_lists,
            },
            id,
            target,
        )
    }

    fn types(events: &[Event]) -> Vec<(&str, String)> {
        events
            .iter()
            .map(|e| {
                (
                    e.kind.as_str(),
                    e.data["status"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    #[tokio::test]
    async fn each_write_of_an_attempt_is_an_event_of_its_customer_in_order_and_a_webhook_queues_what_it_wants(
    ) {
        let (store, targets) = store_with_targets(2).await;
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let (begin_a, call_a, _) = begun_for(a, begin(&targets[0], 1));
        let WriteOp::Begin { call: begun_a, .. } = &begin_a else {
            unreachable!()
        };
        let begun_a = begun_a.clone();
        let (begin_b, _, _) = begun_for(b, begin(&targets[1], 1));
        let notices = store.event_notices();
        store.apply(&[begin_a, begin_b]).await.expect("begins");
        answer(&store, call_a, None).await;
        // A webhook made now is sent what comes after it only.
        let hook = Webhook {
            id: Uuid::new_v4(),
            customer_id: a,
            name: "crm".into(),
            detail: String::new(),
            uri: "http://127.0.0.1:9/".into(),
            event_types: vec![EventType::CampaigncallUpdated],
            secret: "s".into(),
            status: WebhookStatus::Active,
            tm_create: now_string(),
            tm_update: NEVER.into(),
            tm_delete: NEVER.into(),
        };
        Docs(&store).put(&hook).await.expect("webhook");
        let end = AttemptEnd::closed(
            &begun_a,
            Disposition::Answered,
            "",
            TargetNext::Done("success"),
        );
        store
            .apply(&[WriteOp::End(Box::new(end))])
            .await
            .expect("end");

        let all = EventFilter::default();
        let of_a = store.events_after(a, 0, &all, 100).await.expect("events");
        assert_eq!(
            types(&of_a),
            [
                ("campaigncall_created", "dialing".to_string()),
                ("campaigncall_updated", "progressing".to_string()),
                ("campaigncall_updated", "done".to_string()),
            ]
        );
        assert!(of_a.windows(2).all(|w| w[0].id < w[1].id));
        assert_eq!(of_a[2].data["disposition"], "answered");
        assert_eq!(*notices.borrow(), of_a[2].id, "told once committed");
        let of_b = store.events_after(b, 0, &all, 100).await.expect("events");
        assert_eq!(
            types(&of_b),
            [("campaigncall_created", "dialing".to_string())]
        );

        // A trunk's event (of the nil customer) is every tenant's.
        let trunk = NewEvent {
            customer_id: Uuid::nil(),
            kind: EventType::TrunkUpdated,
            resource_id: "carrier".into(),
            data: r#"{"name":"carrier","state":"down"}"#.into(),
        };
        store
            .apply(&[WriteOp::Event(Box::new(trunk))])
            .await
            .expect("event");
        let trunks = EventFilter {
            types: vec![EventType::TrunkUpdated],
            resource_id: None,
        };
        for customer in [a, b] {
            let seen = store
                .events_after(customer, 0, &trunks, 10)
                .await
                .expect("events");
            assert_eq!(seen.len(), 1);
            assert_eq!(seen[0].data["state"], "down");
        }
        assert_eq!(
            store.queue_deliveries(&hook, 100, 0).await.expect("queue"),
            1
        );
        assert_eq!(
            store.queue_deliveries(&hook, 100, 0).await.expect("again"),
            0
        );
        let due = store.due_deliveries(0, 10).await.expect("due");
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].event_id, of_a[2].id);
        let body: serde_json::Value = serde_json::from_str(&due[0].body).expect("json body");
        assert_eq!(body["type"], "campaigncall_updated");
        assert_eq!(body["id"], of_a[2].id);
        assert_eq!(body["data"]["status"], "done");
    }

    #[test]
    fn a_delivery_keeps_one_id_for_its_webhook_and_event() {
        let webhook = Uuid::new_v4();
        let a = delivery_uuid(&format!("{webhook}-42")).expect("id");
        assert_eq!(a, delivery_uuid(&format!("{webhook}-42")).expect("id"));
        assert_ne!(a, delivery_uuid(&format!("{webhook}-43")).expect("id"));
    }
}
