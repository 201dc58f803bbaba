import Foundation

/// Every claim a main job tests (`MainJobClaims` and `ExperimentClaims`) and the files that hold
/// them: what the compare command writes after a run and `dde-train claims` writes again from its
/// files (`ClaimsRefresh`), one piece of code for both.
public enum RunClaims {
    /// The claims of `comparison`'s plan, from its method-against-method rows, its scores and its
    /// fine-tunes' record files.
    public static func all(_ comparison: Comparison, versus: [VersusRow], scores: ScoreTable?) -> [Claim] {
        let settings = comparison.settings, methods = settings.compare.methods
        let main = MainJobClaims.all(versus: versus, methods: methods,
                                     runs: comparison.runs.map { ReportCharts.TrainedRun($0, layout: comparison.layout) },
                                     steps: settings.fineTune.steps)
        guard let scores else { return main }
        return main + ExperimentClaims.all(scores: scores, methods: methods, tRanges: settings.compare.tRanges,
                                           trainAnnotators: comparison.pairAnnotators)
    }

    /// `report-versus.csv`, `claims.csv` and `claims-to-decide.csv` in the run folder.
    public static func write(versus: [VersusRow], claims: [Claim], layout: RunLayout) throws {
        try FileIO.writeAtomically(Array(VersusRow.csv(versus).utf8), to: layout.file("report-versus.csv"))
        try FileIO.writeAtomically(Array(Claim.csv(claims).utf8), to: layout.file("claims.csv"))
        try FileIO.writeAtomically(Array(Claim.decideCSV(claims).utf8), to: layout.file("claims-to-decide.csv"))
    }
}
