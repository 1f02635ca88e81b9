//! API request durations by route pattern, method and status. The route is the pattern a
//! request matched (`/v1.0/campaigns/{id}`), never the raw path, so the label takes as many
//! values as there are routes.

use super::exposition::{Kind, Labels, Writer};
use super::histogram::{ms, us, Histogram};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Bounds of the request-duration buckets.
static BOUNDS: [u64; 12] = [
    us(500),
    ms(1),
    ms(2) + us(500),
    ms(5),
    ms(10),
    ms(25),
    ms(50),
    ms(100),
    ms(250),
    ms(500),
    ms(1000),
    ms(5000),
];

/// The route label of a request that matched no route.
pub const UNMATCHED: &str = "unmatched";

type Key = (String, &'static str, u16);

/// One histogram per (route, method, status) seen.
#[derive(Debug, Default)]
pub struct HttpDurations {
    by_key: RwLock<HashMap<Key, Arc<Histogram>>>,
}

impl HttpDurations {
    /// Counts one request to `route` (a pattern) that took `took`.
    pub fn observe(&self, route: Option<&str>, method: &str, status: u16, took: Duration) {
        let method = known_method(method);
        let route = route.unwrap_or(UNMATCHED);
        let found = self.by_key.read().ok().and_then(|m| {
            // A borrowed lookup would need the key's parts in one allocation anyway.
            m.get(&(route.to_string(), method, status)).cloned()
        });
        let h = match found {
            Some(h) => h,
            None => {
                let Ok(mut m) = self.by_key.write() else {
                    return;
                };
                m.entry((route.to_string(), method, status))
                    .or_insert_with(|| Arc::new(Histogram::new(&BOUNDS)))
                    .clone()
            }
        };
        h.observe(took);
    }

    /// Writes `ringmaster_http_request_duration_seconds`.
    pub fn write(&self, out: &mut Writer) {
        let name = "ringmaster_http_request_duration_seconds";
        out.family(
            name,
            Kind::Histogram,
            "API requests by route pattern, method and status: time from receiving the request to its response.",
        );
        let Ok(m) = self.by_key.read() else {
            return;
        };
        let mut keys: Vec<&Key> = m.keys().collect();
        keys.sort();
        for key in keys {
            let labels = Labels::one("route", key.0.clone())
                .with("method", key.1)
                .with("status", key.2.to_string());
            m[key].snapshot().write(out, name, &labels);
        }
    }
}

/// The method as a label: one of the standard ones, or `other`.
fn known_method(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_pattern_and_odd_methods_share_one_label() {
        let h = HttpDurations::default();
        let route = Some("/v1.0/campaigns/{id}");
        h.observe(route, "GET", 200, Duration::from_millis(3));
        h.observe(route, "GET", 200, Duration::from_millis(30));
        h.observe(None, "BREW", 404, Duration::from_micros(100));
        let mut w = Writer::default();
        h.write(&mut w);
        let text = w.finish();
        assert!(text.contains(
            "ringmaster_http_request_duration_seconds_count{route=\"/v1.0/campaigns/{id}\",method=\"GET\",status=\"200\"} 2\n"
        ), "{text}");
        assert!(text.contains(
            "ringmaster_http_request_duration_seconds_bucket{route=\"unmatched\",method=\"other\",status=\"404\",le=\"0.0005\"} 1\n"
        ), "{text}");
    }
}
