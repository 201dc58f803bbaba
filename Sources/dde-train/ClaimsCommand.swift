import ArgumentParser
import DDECore
import Foundation

/// `dde-train claims --config RUN/config.resolved.conf`: a finished main job's method-against-method
/// rows and claims computed again from its files (`ClaimsRefresh`): nothing is trained or evaluated.
struct ClaimsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "claims",
        abstract: "Recompute a finished main job's report-versus.csv, claims.csv and claims-to-decide.csv from its scores-all.csv and fine-tune folders."
    )

    @OptionGroup var options: RunOptions

    func run() throws {
        try options.execute(onRanks: false) { settings, workspace in
            let comparison = Comparison(settings: settings, workspace: workspace, build: Build.info, observer: SilentObserver())
            let claims = try ClaimsRefresh.run(comparison)
            // The folder's provenance says which build recomputed them, and when.
            let info = comparison.layout.file("run-info.txt")
            let before = (try? String(contentsOfFile: info, encoding: .utf8)) ?? ""
            let line = "claims recomputed: commit \(Build.info.commit) at \(ISO8601DateFormatter().string(from: Date()))\n"
            try FileIO.writeAtomically(Array((before + line).utf8), to: info)
            print(Claim.markdown(claims), terminator: "")
            let out = settings.out
            print("rewrote \(out)/report-versus.csv, \(out)/claims.csv, \(out)/claims-to-decide.csv and report.md's two sections")
        }
    }
}
