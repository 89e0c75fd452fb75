//! Writes a generated Rust file of a given shape and size, for measuring the audit's memory.
//!
//! ```sh
//! cargo run --release -p foundation-audit --example generated -- functions 5 > /tmp/functions.rs
//! /usr/bin/time -v target/release/cargo-foundation-audit /tmp/functions.rs
//! ```
//!
//! Shapes: `functions` (top-level functions, as most generated code),
//! `module` (the same inside one `pub mod`), `impl` (methods of one `impl`
//! block) and `table` (one `static` array of tuples).

use std::io::Write as _;

fn function(index: usize, indent: &str, receiver: &str) -> String {
    format!(
        "{indent}/// Handler {index}.\n\
         {indent}pub fn handler_{index}({receiver}x: u64, tx: &Sender<u64>) -> Result<u64, String> {{\n\
         {indent}    let key = x.wrapping_mul({index}) ^ 7;\n\
         {indent}    match tx.try_send(key) {{\n\
         {indent}        Ok(()) => {{}}\n\
         {indent}        Err(error) => return Err(format!(\"send failed: {{error}}\")),\n\
         {indent}    }}\n\
         {indent}    let items: Vec<u64> = (0..key % 17).map(|x| x * 2 + 1).collect();\n\
         {indent}    Ok(items.len() as u64)\n\
         {indent}}}\n\n"
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let shape = args.next().unwrap_or_else(|| "functions".to_owned());
    let megabytes: usize = args.next().and_then(|arg| arg.parse().ok()).unwrap_or(5);
    let target = megabytes * 1024 * 1024;
    let mut text = String::from("//! Generated.\nuse std::sync::mpsc::SyncSender as Sender;\n\n");
    let (open, indent, receiver, close) = match shape.as_str() {
        "module" => (
            "pub mod generated {\n    use super::*;\n",
            "    ",
            "",
            "}\n",
        ),
        "impl" => (
            "pub struct Handlers;\nimpl Handlers {\n",
            "    ",
            "&self, ",
            "}\n",
        ),
        "table" => (
            "pub static TABLE: &[(u32, u32, &str)] = &[\n",
            "",
            "",
            "];\n",
        ),
        _ => ("", "", "", ""),
    };
    text.push_str(open);
    let mut index = 0;
    while text.len() < target {
        if shape == "table" {
            text.push_str(&format!(
                "    ({}, {}, \"n{index}\"),\n",
                index * 7919 % 1_048_576,
                index * 104_729 % 1_048_576
            ));
        } else {
            text.push_str(&function(index, indent, receiver));
        }
        index += 1;
    }
    text.push_str(close);
    if let Err(error) = std::io::stdout().write_all(text.as_bytes()) {
        eprintln!("error: {error}");
        std::process::exit(2);
    }
}
