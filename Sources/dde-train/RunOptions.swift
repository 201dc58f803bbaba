import ArgumentParser
import DDECore
// TEMPORARY stub until the config system lands.
struct RunOptions: ParsableArguments {
    @Option(name: .customLong("config")) var configFile: String?
    @Argument var overrides: [String] = []
}
