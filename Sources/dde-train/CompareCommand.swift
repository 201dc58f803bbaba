import ArgumentParser
import DDECore
import Foundation

/// `dde-train --config X`: the whole comparison (docs/TESTBED.md): base model, annotators,
/// pairs, every method x annotator x seed fine-tune, evaluation, the table (stdout and
/// report.md), report.csv, report-dist.csv and report.html with its grids and charts. Cached
/// stages are reused; `dry_run=true` prints the plan only.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "The main job (the default): every stage for every method, then the report."
    )

    @OptionGroup var options: RunOptions

    func run() throws {
        try options.execute { settings, workspace in
            let progress = ProgressLine()
            let comparison = Comparison(settings: settings, workspace: workspace, build: Build.info, observer: progress)
            let layout = comparison.layout
            if settings.compare.dryRun {
                progress.note("measuring this machine's rates at these sizes (the bench's steps, a few seconds)")
                let plan = try comparison.plan()
                print("plan for \(settings.out) (stage, cached?, estimated seconds):")
                for row in plan {
                    print("  " + row.stage.padding(toLength: 32, withPad: " ", startingAt: 0) + (row.cached ? "cached   " : "to run   ")
                          + String(format: "%6.0f s", row.cached ? 0 : row.seconds))
                }
                let total = plan.filter { !$0.cached }.map(\.seconds).reduce(0, +)
                print(String(format: "estimated total: %.0f s (%.1f min); nothing was run", total, total / 60))
                let gib = { (bytes: Int) in String(format: "%.2f", Double(bytes) / Double(1 << 30)) }
                print("estimated peak memory per stage (upper estimates, MemoryEstimate), of this machine's "
                      + gib(Int(clamping: ProcessInfo.processInfo.physicalMemory)) + " GiB: "
                      + MemoryEstimate.stages(settings).map { "\($0.name) \(gib($0.bytes)) GiB" }.joined(separator: ", "))
                return
            }
            let started = Date()
            let rows = try comparison.run()
            let out = settings.out, eval = settings.eval
            let table = ComparisonReport.table(rows)
            let heading = "\(try comparison.evalPrompts().count) \(eval.prompts.phrase) x \(eval.imagesPerPrompt) images, DDIM \(eval.steps) steps, guidance \(eval.guidance); "
                + "mean, change vs base [95% paired bootstrap], beat ratio b; each method scored by the annotator of its pairs"
            print(heading)
            print(table)
            try FileIO.writeAtomically(Array(ComparisonReport.csv(rows).utf8), to: layout.file("report.csv"))
            if rows.contains(where: { !$0.setting.isEmpty }) {
                try FileIO.writeAtomically(Array(ComparisonReport.sweepCSV(rows).utf8), to: layout.file("sweep.csv"))
                print("sweep: \(out)/sweep.csv (one row per method, grid point, train and eval annotator)")
            }
            if let chart = SegmentChart.svg(rows, T: settings.schedule.T) {
                try FileIO.writeAtomically(Array(chart.utf8), to: layout.file("segments.svg"))
                print("segments chart: \(out)/segments.svg")
            }
            let dist = ComparisonReport.distributionCSV(comparison.distribution)
            try FileIO.writeAtomically(Array(dist.utf8), to: layout.file("report-dist.csv"))
            if comparison.distribution.isEmpty {
                print("distribution metrics: not computed (they compare against clean renders of the prompts, which are not all shapes-world captions)")
            } else {
                print("distribution metrics (Frechet distance of align features to clean renders, Inception-Score analog, colour error):")
                print(dist, terminator: "")
            }
            if let scores = comparison.scores {
                try FileIO.writeAtomically(Array(scores.allCSV.utf8), to: layout.file("scores-all.csv"))
            }
            let versus = comparison.versus
            let contents = ReportPage.Contents(comparison, rows: rows)
            let claims = contents.claims
            try RunClaims.write(versus: versus, claims: claims, layout: layout)
            let matrix = VersusMatrix.markdown(versus, methods: settings.compare.methods), claimsText = Claim.markdown(claims)
            if !matrix.isEmpty { print("\n" + matrix) }
            if !claimsText.isEmpty { print("\n" + claimsText) }
            try FileIO.writeAtomically(Array(("# dde-train comparison\n\n" + heading + "\n\n```\n" + table + "```\n"
                                              + [matrix, claimsText].filter { !$0.isEmpty }.map { "\n" + $0 }.joined()).utf8),
                                       to: layout.file("report.md"))
            let page = try ReportPage.write(contents)
            try RunInfo(build: Build.info, arguments: Array(CommandLine.arguments.dropFirst()), started: started, finished: Date())
                .write(to: layout.file("run-info.txt"))
            print("report: \(out)/report.md, \(out)/report.csv, \(out)/report-versus.csv, \(out)/claims.csv, \(out)/scores-all.csv, \(page)")
        }
    }
}
