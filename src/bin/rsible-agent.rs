//! `rsible-agent`: the agent the controller ships to each target and starts
//! there (see DESIGN.md): the framed protocol on stdio, the native modules and
//! nothing of the controller. Half the size of `rsible` (which can act as the
//! agent too, `rsible agent`): half the bytes to send to each new target, and
//! fewer pages for every start to map and relocate (a gathering on 20 hosts
//! starts 20 agents).

fn main() -> std::process::ExitCode {
    // The bootstrap starts agents as `<binary> agent`; the argument is for
    // `rsible`, which is also a command-line tool, and means nothing here.
    std::process::ExitCode::from(rsible_modules::run_agent_stdio().clamp(0, 255) as u8)
}
