// Migrations and the console's built files are embedded at compile time:
// rebuild when they change.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=src/console/web/dist");
}
