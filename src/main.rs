//! The `ringmaster` command line.

fn main() {
    println!("ringmaster {}", env!("CARGO_PKG_VERSION"));
}
