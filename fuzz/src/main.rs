//! The fuzzing binary: `flotilla-fuzz TARGET` runs one of [`flotilla_node::fuzz::TARGETS`]
//! under AFL++ (stdin or AFL's shared memory); `flotilla-fuzz seed DIR` writes a few valid
//! inputs per target into `DIR/<target>/` to start a corpus from.

mod seeds;

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_default();
    if name == "seed" {
        let dir = args.next().unwrap_or_else(|| "corpus".into());
        if let Err(e) = seeds::write(std::path::Path::new(&dir)) {
            eprintln!("flotilla-fuzz seed: {e}");
            std::process::exit(1);
        }
        return;
    }
    let Some(&(_, target)) = flotilla_node::fuzz::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
    else {
        let names: Vec<&str> = flotilla_node::fuzz::TARGETS
            .iter()
            .map(|(n, _)| *n)
            .collect();
        eprintln!(
            "usage: flotilla-fuzz TARGET | seed DIR; targets: {}",
            names.join(" ")
        );
        std::process::exit(2);
    };
    afl::fuzz!(|data: &[u8]| {
        target(data);
    });
}
