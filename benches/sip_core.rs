//! Benchmarks of the sans-IO SIP core.
use criterion::{criterion_group, criterion_main, Criterion};

fn parse(c: &mut Criterion) {
    let _ = c;
}

criterion_group!(benches, parse);
criterion_main!(benches);
