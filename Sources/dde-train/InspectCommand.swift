import ArgumentParser
import DDECore
import Foundation

/// `dde-train inspect schedule`: the noise schedule as CSV `t,beta,alpha_bar,b2,lambda` on
/// stdout (t = 1..T, b2 = (1 - abar)/abar, lambda as `dde.lambda` says, losses.md) and an SVG
/// chart of b2 and lambda against t in the run folder.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "inspect schedule: the schedule as CSV on stdout, and <out>/schedule.svg (b2 and lambda against t)."
    )

    @Argument(help: "What to inspect: schedule.")
    var what: String

    @OptionGroup var options: RunOptions

    func run() throws {
        guard what == "schedule" else { throw ValidationError("unknown inspect target '\(what)': the targets are: schedule") }
        try options.execute(lockRunFolder: false, onRanks: false) { settings, workspace in
            let s = settings.schedule
            let form = NoiseSchedule.LambdaForm.posterior
            var csv = "t,beta,alpha_bar,b2,lambda\n"
            for t in 1...s.T {
                csv += "\(t),\(fmt(s.beta[t])),\(fmt(s.alphaBar[t])),\(fmt(s.b2(t))),\(fmt(s.lambda(t, form)))\n"
            }
            print(csv, terminator: "")
            let chart = SVGLineChart(
                title: "\(s.kind.rawValue) schedule, T = \(s.T): DDE's weights",
                xLabel: "t (math index; the network sees t - 1)", yLabel: "weight",
                series: [.init("b2_t = (1 - abar_t) / abar_t (single-shot)", (1...s.T).map { (Double($0), s.b2($0)) }),
                         .init("lambda_t (\(form.rawValue))", (1...s.T).map { (Double($0), s.lambda($0, form)) })],
                logY: true)
            try FileIO.createFolder(settings.out)
            let path = RunLayout(out: settings.out).file("schedule.svg")
            try FileIO.writeAtomically(Array(chart.render().utf8), to: path)
            FileHandle.standardError.write(Data("chart: \(path)\n".utf8))
        }
    }

    private func fmt(_ v: Double) -> String { String(format: "%.8g", v) }
}
