//! Do-not-call numbers on SQLite: the API's reads and writes of the `dnc_numbers` table. The
//! dialer's check is part of its batch (see `apply.rs`).

use crate::domain::{DncNumber, DncSource, E164};
use crate::store::{Listed, Page, StoreError, StoreResult};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};
use uuid::Uuid;

/// Numbers per `INSERT` statement (six parameters each).
const CHUNK: usize = 500;

/// Upserts `numbers` in one transaction; returns how many.
pub(super) async fn put(
    pool: &SqlitePool,
    customer: Uuid,
    numbers: &[DncNumber],
) -> StoreResult<u64> {
    let mut tx = pool.begin().await?;
    for chunk in numbers.chunks(CHUNK) {
        let rows = vec!["(?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        let sql = format!(
            "INSERT INTO dnc_numbers (list_id, customer_id, number, source, expire_at, tm_create)
             VALUES {rows}
             ON CONFLICT (list_id, number) DO UPDATE
               SET source = excluded.source, expire_at = excluded.expire_at"
        );
        let mut query = sqlx::query(&sql);
        for n in chunk {
            query = query
                .bind(n.list_id.to_string())
                .bind(customer.to_string())
                .bind(n.number.as_str().to_string())
                .bind(n.source.as_str())
                .bind(n.expire_at)
                .bind(n.tm_create.clone());
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(numbers.len() as u64)
}

/// A page of a list's numbers in number order.
pub(super) async fn list(
    pool: &SqlitePool,
    list: Uuid,
    number: Option<&E164>,
    page: &Page,
) -> StoreResult<Listed<DncNumber>> {
    let size = i64::from(page.size.clamp(1, 100));
    let after = page.token.clone().unwrap_or_default();
    let rows = match number {
        Some(n) => {
            sqlx::query(
                "SELECT list_id, number, source, expire_at, tm_create FROM dnc_numbers
                 WHERE list_id = ? AND number = ?",
            )
            .bind(list.to_string())
            .bind(n.as_str())
            .fetch_all(pool)
            .await?
        }
        None => {
            sqlx::query(
                "SELECT list_id, number, source, expire_at, tm_create FROM dnc_numbers
                 WHERE list_id = ? AND number > ? ORDER BY number LIMIT ?",
            )
            .bind(list.to_string())
            .bind(after)
            .bind(size + 1)
            .fetch_all(pool)
            .await?
        }
    };
    let more = rows.len() as i64 > size;
    let result: Vec<DncNumber> = rows
        .iter()
        .take(size as usize)
        .map(number_from_row)
        .collect::<Result<_, _>>()?;
    let next_page_token = match (more, result.last()) {
        (true, Some(last)) => last.number.to_string(),
        _ => String::new(),
    };
    Ok(Listed {
        result,
        next_page_token,
    })
}

/// Takes one number off a list.
pub(super) async fn delete(pool: &SqlitePool, list: Uuid, number: &E164) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM dnc_numbers WHERE list_id = ? AND number = ?")
        .bind(list.to_string())
        .bind(number.as_str())
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Takes every number off a list.
pub(super) async fn clear(pool: &SqlitePool, list: Uuid) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM dnc_numbers WHERE list_id = ?")
        .bind(list.to_string())
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

fn number_from_row(row: &SqliteRow) -> StoreResult<DncNumber> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("dnc_numbers.{what}"));
    let list: &str = row.try_get("list_id")?;
    let number: &str = row.try_get("number")?;
    let source: &str = row.try_get("source")?;
    Ok(DncNumber {
        list_id: Uuid::parse_str(list).map_err(|_| corrupt("list_id"))?,
        number: E164::parse(number).map_err(|_| corrupt("number"))?,
        source: DncSource::parse(source).ok_or_else(|| corrupt("source"))?,
        expire_at: row.try_get("expire_at")?,
        tm_create: row.try_get("tm_create")?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{begin, store_with_targets, stored};
    use crate::domain::dnclist::default_id;
    use crate::domain::{Disposition, DncNumber, DncSource, Target, TargetStatus, E164};
    use crate::store::{CallFilter, Commits, Page, Store, WriteOp};
    use std::sync::Arc;
    use uuid::Uuid;

    /// A Begin of `target`'s first try, checked against `lists`.
    fn begin_checked(target: &Target, lists: &[Uuid]) -> WriteOp {
        let mut op = begin(target, 1);
        if let WriteOp::Begin {
            call, dnc_lists, ..
        } = &mut op
        {
            call.destination = target
                .destinations
                .destination_0
                .clone()
                .unwrap_or_default();
            *dnc_lists = Arc::from(lists.to_vec());
        }
        op
    }

    fn number_of(target: &Target) -> E164 {
        match target.destinations.destination_0.as_ref().map(|a| &a.kind) {
            Some(crate::domain::AddressKind::Tel(n)) => n.clone(),
            _ => unreachable!("targets are numbers"),
        }
    }

    fn entry(list: Uuid, number: E164, expire_at: Option<i64>) -> DncNumber {
        DncNumber {
            list_id: list,
            number,
            source: DncSource::Import,
            expire_at,
            tm_create: crate::domain::time::now_string(),
        }
    }

    #[tokio::test]
    async fn a_begin_of_a_listed_number_is_closed_dnc_with_no_try_used() {
        let (store, targets) = store_with_targets(4).await;
        let customer = Uuid::new_v4();
        let default = default_id(customer);
        let other = Uuid::new_v4();
        let not_applied = Uuid::new_v4();
        let now = chrono::Utc::now().timestamp_millis();
        store
            .put_dnc_numbers(
                customer,
                &[
                    entry(default, number_of(&targets[0]), None),
                    entry(other, number_of(&targets[1]), Some(now + 60_000)),
                    // Expired: dialed.
                    entry(default, number_of(&targets[2]), Some(now - 1)),
                    // On a list this campaign does not check: dialed.
                    entry(not_applied, number_of(&targets[3]), None),
                ],
            )
            .await
            .expect("numbers");
        let lists = [default, other];
        let ops: Vec<WriteOp> = targets.iter().map(|t| begin_checked(t, &lists)).collect();
        let applied = store.apply(&ops).await.expect("apply");
        assert_eq!(applied, [false, false, true, true]);
        for (i, t) in targets.iter().enumerate() {
            let t = stored(&store, t.outdial_id, t.id).await;
            if i < 2 {
                assert_eq!((t.status, t.result.as_str()), (TargetStatus::Done, "fail"));
                assert_eq!(t.tries.to_array(), [0; 5], "no try used");
            } else {
                assert_eq!(t.status, TargetStatus::Progressing);
                assert_eq!(t.tries.to_array()[0], 1);
            }
        }
        let calls = store
            .list_campaigncalls(
                Uuid::nil(),
                &CallFilter::default(),
                &Page {
                    size: 10,
                    token: None,
                    max_bytes: usize::MAX,
                },
            )
            .await
            .expect("calls")
            .result;
        let dnc = calls
            .iter()
            .filter(|c| c.disposition == Some(Disposition::Dnc))
            .count();
        assert_eq!((calls.len(), dnc), (4, 2));
        let counts = store.call_counts(Uuid::nil()).await.expect("counts");
        assert_eq!(counts.dispositions.get("dnc"), Some(&2));
        assert_eq!(counts.attempts, 2, "a dnc number is no attempt");
    }

    #[tokio::test]
    async fn an_opt_out_puts_the_number_on_the_default_list_and_makes_the_list() {
        let (store, targets) = store_with_targets(1).await;
        let customer = Uuid::new_v4();
        let number = number_of(&targets[0]);
        let at = crate::domain::time::now_string();
        let op = WriteOp::OptOut {
            customer_id: customer,
            number: number.clone(),
            at: at.clone(),
        };
        store.apply(&[op.clone(), op]).await.expect("opt out");
        let list = crate::store::Docs(&store)
            .get::<crate::domain::Dnclist>(Some(customer), default_id(customer))
            .await
            .expect("read")
            .expect("the default list is made");
        assert_eq!(list.name, "default");
        let page = Page {
            size: 10,
            token: None,
            max_bytes: usize::MAX,
        };
        let listed = store
            .list_dnc_numbers(list.id, Some(&number), &page)
            .await
            .expect("numbers");
        assert_eq!(listed.result.len(), 1);
        assert_eq!(listed.result[0].source, DncSource::OptOut);
        // From then on the number is not dialed.
        let applied = store
            .apply(&[begin_checked(&targets[0], &[list.id])])
            .await
            .expect("begin");
        assert_eq!(applied, [false]);
    }

    #[tokio::test]
    async fn numbers_page_in_order_and_come_off_one_by_one() {
        let (store, _) = store_with_targets(0).await;
        let list = Uuid::new_v4();
        let numbers: Vec<DncNumber> = (0..5)
            .map(|i| {
                entry(
                    list,
                    format!("+1555010{i:04}").parse().expect("E.164"),
                    None,
                )
            })
            .collect();
        store
            .put_dnc_numbers(Uuid::nil(), &numbers)
            .await
            .expect("put");
        // Again: updated, not doubled.
        store
            .put_dnc_numbers(Uuid::nil(), &numbers[..1])
            .await
            .expect("again");
        let mut page = Page {
            size: 2,
            token: None,
            max_bytes: usize::MAX,
        };
        let mut seen = Vec::new();
        for _ in 0..5 {
            let listed = store
                .list_dnc_numbers(list, None, &page)
                .await
                .expect("page");
            seen.extend(listed.result.into_iter().map(|n| n.number.to_string()));
            if listed.next_page_token.is_empty() {
                break;
            }
            page.token = Some(listed.next_page_token);
        }
        let want: Vec<String> = numbers.iter().map(|n| n.number.to_string()).collect();
        assert_eq!(seen, want);
        assert!(store
            .delete_dnc_number(list, &numbers[0].number)
            .await
            .expect("delete"));
        assert!(!store
            .delete_dnc_number(list, &numbers[0].number)
            .await
            .expect("again"));
        assert_eq!(store.clear_dnc_list(list).await.expect("clear"), 4);
    }
}
