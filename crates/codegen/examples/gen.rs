fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "openapi.yaml".into());
    let spec = std::fs::read_to_string(&path).unwrap_or_default();
    match shipstream_inventory_codegen::generate(&spec) {
        Ok(g) => print!("{}", g.code),
        Err(e) => eprintln!("error: {e}"),
    }
}
