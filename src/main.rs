fn main() -> std::process::ExitCode {
    pookie::cli::main()
}
