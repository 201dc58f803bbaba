import ArgumentParser
import DDECore
import Foundation

/// `dde-train inspect schedule`: the noise schedule as CSV `t,beta,alpha_bar,b2,lambda` on
/// stdout (t = 1..T, b2 = (1 - abar)/abar, lambda as `dde.lambda` says, docs/LOSSES.md) and an SVG
/// chart of b2 and lambda against t in the run folder.
///
/// `dde-train inspect loss loss=NAME t=T e_w=X e_l=X e_ref_w=X e_ref_l=X [c_t=X] [d_w=X] [p=X]`:
/// the loss of a batch holding that one pair (KTO: its two images) and its gradient with respect
/// to the two policy errors, as CSV `loss,t,value,grad_e_w,grad_e_l`, with the config's constants
/// and the loss's own beta (`LossInspection`, through the code training runs).
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "inspect schedule: the schedule as CSV on stdout, and <out>/schedule.svg (b2 and lambda against t). inspect loss loss=NAME t=T e_w=X e_l=X e_ref_w=X e_ref_l=X [c_t=X] [d_w=X] [p=X]: one pair's loss and its gradients as CSV."
    )

    @Argument(help: "What to inspect: schedule or loss.")
    var what: String

    @OptionGroup var options: RunOptions

    func run() throws {
        switch what {
        case "schedule": try schedule()
        case "loss": try inspectLoss()
        default: throw ValidationError("unknown inspect target '\(what)': the targets are: schedule, loss")
        }
    }

    private func inspectLoss() throws {
        // The pair's inputs are not config keys: taken out of the overrides before they are resolved.
        var options = self.options, inputs: [String: String] = [:]
        options.overrides = options.overrides.filter { argument in
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, LossInspection.Inputs.names.contains(parts[0]) else { return true }
            inputs[parts[0]] = parts[1]
            return false
        }
        try options.execute(lockRunFolder: false, onRanks: false) { settings, _ in
            let resolved = try settings.forMethod(settings.fineTune.loss.kind.rawValue)
            let x = try LossInspection.Inputs(arguments: inputs, T: resolved.schedule.T)
            let r = try LossInspection.evaluate(resolved.fineTune.loss, schedule: resolved.schedule, x)
            print("loss,t,value,grad_e_w,grad_e_l")
            print("\(resolved.fineTune.loss.kind.rawValue),\(x.t),\(fmt9(r.value)),\(fmt9(r.gradWinner)),\(fmt9(r.gradLoser))")
        }
    }

    private func schedule() throws {
        try options.execute(lockRunFolder: false, onRanks: false) { settings, workspace in
            let s = settings.schedule
            let form = settings.fineTune.loss.lambdaForm  // dde.lambda, as the header comment says
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
    private func fmt9(_ v: Double) -> String { String(format: "%.9g", v) }
}
