import ArgumentParser
import DDECore

/// `dde-train config`: the key table, or a validated, resolved config.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "List the config keys, or validate a config and print it resolved.",
        discussion: """
            Without --config or overrides, prints every key: name, type, default, unit, allowed \
            values, the stages whose results it changes (their signatures are derived from this \
            column) and description (--markdown: the README's table). With them, checks the config \
            and prints it resolved, every key with where non-defaults came from; that text is a \
            valid config file.
            """
    )

    @OptionGroup var options: RunOptions

    @Flag(help: "Print the key table as markdown (the README's list).")
    var markdown = false

    func validate() throws {
        if markdown && !options.isEmpty {
            throw ValidationError("--markdown prints the key table; it takes no --config or overrides.")
        }
    }

    func run() throws {
        if markdown {
            print(ConfigKeys.markdownTable(), terminator: "")
        } else if options.isEmpty {
            print(ConfigKeys.textTable(), terminator: "")
        } else {
            print(try options.resolve().config.rendered(), terminator: "")
        }
    }
}
