import XCTest
import DDECore

/// The report page's pieces on synthetic input: the tolerant CSV reader, the chart readers
/// (including missing files and columns), and the image grids' sizes. The page itself, after a
/// tiny main job, is checked in `ComparisonTests.testMainJobAtToySize`.
final class ReportTests: XCTestCase {
    func temporaryFolder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dde-report-\(UInt64.random(in: 0...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder
    }

    func write(_ text: String, _ path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileIO.writeAtomically(Array(text.utf8), to: path)
    }

    func testCSVTableToleratesEmptyShortAndMissing() {
        let t = CSVTable(text: "step,loss,C\n1,0.5,\n2,0.25\n3,null,7\n\n")
        XCTAssertEqual(t.header, ["step", "loss", "C"])
        XCTAssertEqual(t.rows.count, 3, "the blank last line is not a row")
        XCTAssertEqual(t.numbers("loss"), [0.5, 0.25, nil], "null is missing")
        XCTAssertEqual(t.numbers("C"), [nil, nil, 7], "an empty and a short row are missing")
        XCTAssertEqual(t.numbers("absent"), [nil, nil, nil])
        XCTAssertEqual(t.points(x: "step", y: "loss").map(\.y), [0.5, 0.25])
        XCTAssertNil(CSVTable.load("/nonexistent/metrics.csv"))
    }

    func testMovingAverageByHand() {
        let points = [1.0, 2, 3, 10].enumerated().map { (x: Double($0.offset), y: $0.element) }
        XCTAssertEqual(ReportCharts.movingAverage(points, window: 3).map(\.y), [1.5, 2, 5, 6.5])
        XCTAssertEqual(ReportCharts.movingAverage(points, window: 1).map(\.y), [1, 2, 3, 10])
    }

    /// Two probe steps; only the last counts. Buckets (1..100, density 2, norm 1), (101..200,
    /// density 1, norm 2), (201..300, density 0.5, norm 0): credit 2 : 2 : 0.
    func testCreditProfileUsesTheLastProbeStepAndSumsToOne() {
        let csv = CSVTable(text: """
            step,bucket,t_low,t_high,density,mean_abs_dLdD,grad_norm
            10,0,1,100,1,1,9
            10,1,101,200,1,1,9
            20,0,1,100,2,0.5,1
            20,1,101,200,1,3,2
            20,2,201,300,0.5,2,0
            """)
        let p = ReportCharts.creditProfile(csv, weight: "grad_norm")
        XCTAssertEqual(p.map(\.x), [50.5, 150.5, 250.5])
        XCTAssertEqual(p.map(\.y), [0.5, 0.5, 0])
        let d = ReportCharts.creditProfile(csv, weight: "mean_abs_dLdD")
        XCTAssertEqual(d.map(\.y), [1.0 / 5, 3.0 / 5, 1.0 / 5], "2*0.5 : 1*3 : 0.5*2")
        XCTAssertTrue(ReportCharts.creditProfile(CSVTable(text: "step,bucket,t_low,t_high,grad_norm\n1,0,1,100,2\n"), weight: "grad_norm").isEmpty,
                      "no density column: no profile")
        XCTAssertTrue(ReportCharts.creditProfile(nil, weight: "grad_norm").isEmpty)
    }

    func testCorrectionSeriesSumsTheRecordAboveT() {
        var text = "step,bucket,first_step,value,updates\n"
        for step in [5, 10] {
            for b in 0..<10 { text += "\(step),\(b),\(b * 100 + 1),\(Double(b) + Double(step) / 100),\(step)\n" }
        }
        // Ten buckets of 100 steps, entry b = b + step/100: C_t adds each entry once per step s > t.
        let series = ReportCharts.correctionSeries(CSVTable(text: text))
        XCTAssertEqual(series.map(\.name), ["C_0", "C_250", "C_500", "C_750"])
        XCTAssertEqual(series[0].points.map(\.x), [5, 10])
        XCTAssertEqual(series[0].points[0].y, 4550, accuracy: 1e-9, "(0+1+...+9 + 10 x 0.05) x 100")
        XCTAssertEqual(series[1].points[0].y, 2.05 * 50 + 4235, accuracy: 1e-9, "half of bucket 2, then buckets 3...9")
        XCTAssertEqual(series[2].points[1].y, (35 + 0.5) * 100, accuracy: 1e-9, "buckets 5...9 at step 10")
        XCTAssertTrue(ReportCharts.correctionSeries(CSVTable(text: "step,value\n1,2\n")).isEmpty, "no first_step column")
        XCTAssertTrue(ReportCharts.correctionSeries(nil).isEmpty)
    }

    /// A dde run with every file, a uniform run with only metrics.csv, an sft run with none:
    /// charts with data where a file exists, "no data" (and a caption naming the file) elsewhere.
    func testChartsFromSyntheticFolders() throws {
        let out = try temporaryFolder()
        let dde = ReportCharts.TrainedRun(Comparison.Run(method: "dde", annotator: "pick", seed: 0), layout: RunLayout(out: out))
        let uniform = ReportCharts.TrainedRun(Comparison.Run(method: "uniform", annotator: "pick", seed: 0), layout: RunLayout(out: out))
        let sft = ReportCharts.TrainedRun(Comparison.Run(method: "sft", annotator: "pick", seed: 0), layout: RunLayout(out: out))
        try write("step,loss,implicit_acc,z,D,e_policy_w,e_policy_l,e_ref_w,e_ref_l,C,grad_norm,lr,t_mean,seconds\n"
                  + "1,0.69,0.5,0.01,0,1,1,1,1,0,1,1e-4,500,0.1\n2,0.68,0.75,0.05,0,1,1,1,1,0.1,1,1e-4,500,0.1\n", dde.folder + "/metrics.csv")
        try write("step,loss,implicit_acc,z\n0,0.69,0.5,0\n2,0.67,0.6,0.02\n", dde.folder + "/heldout.csv")
        try write("step,bucket,first_step,value,updates\n1,0,1,0.1,1\n1,1,501,0.2,1\n2,0,1,0.15,2\n2,1,501,0.25,2\n",
                  dde.folder + "/record-history.csv")
        try write("bucket,first_step,value,updates,C\n0,1,0.15,2,0.25\n1,501,0.25,2,0\n", dde.folder + "/record.csv")
        try write("step,bucket,t_low,t_high,density,mean_abs_dLdD,grad_norm\n2,0,1,500,1,0.5,1\n2,1,501,1000,1,0.5,3\n",
                  dde.folder + "/credit.csv")
        try write("step,loss,implicit_acc,z,D,e_policy_w,e_policy_l,e_ref_w,e_ref_l,grad_norm,lr,t_mean,seconds\n1,0.69,0.5,0,0,1,1,1,1,1,1e-4,500,0.1\n",
                  uniform.folder + "/metrics.csv")
        // heldout-by-t.csv: step 0 and the last step (the chart reads the last), two tenths.
        try write("step,t_low,t_high,pairs,accuracy,mean_z\n0,1,100,4,0.5,0\n0,101,200,4,0.5,0\n"
                  + "2,1,100,4,0.75,0.1\n2,101,200,4,0.25,-0.1\n", dde.folder + "/heldout-by-t.csv")
        let charts = ReportCharts.all([sft, uniform, dde])
        func chart(_ file: String) throws -> ReportCharts.Chart { try XCTUnwrap(charts.first { $0.file == file }, file) }
        XCTAssertEqual(charts.map(\.file), ["loss.svg", "implicit-accuracy.svg", "z.svg", "record-dde-pick-s0.svg", "correction.svg",
                                            "credit.svg", "credit-dLdD.svg", "heldout-by-t.svg"])
        let byT = ReportCharts.heldoutByMethod([sft, uniform, dde])
        XCTAssertEqual(byT.map(\.name), ["dde"], "only dde has heldout-by-t.csv")
        XCTAssertEqual(byT.first?.points.map(\.x), [50.5, 150.5])
        XCTAssertEqual(byT.first?.points.map(\.y), [0.75, 0.25], "the last step's accuracy per tenth")
        let accuracy = try chart("implicit-accuracy.svg")
        XCTAssertTrue(accuracy.hasData)
        XCTAssertTrue(accuracy.svg.contains("dde/pick/s0 held-out") && accuracy.svg.contains("uniform/pick/s0 train"))
        XCTAssertFalse(accuracy.svg.contains("sft/pick/s0"), "a run without the file adds no series")
        XCTAssertTrue(accuracy.svg.contains("stroke-dasharray"), "held-out curves are dashed")
        XCTAssertTrue(try chart("record-dde-pick-s0.svg").svg.contains("C_500"))
        XCTAssertTrue(try chart("correction.svg").hasData)
        let credit = try chart("credit.svg")
        XCTAssertTrue(credit.hasData)
        XCTAssertTrue(credit.svg.contains(">dde<") && !credit.svg.contains(">uniform<"), "only dde has credit.csv")
        XCTAssertTrue(credit.caption.contains("averaged over the train annotators (pick)"), credit.caption)

        // Without any file: every chart says "no data" and names the file it wanted.
        let empty = ReportCharts.all([sft])
        XCTAssertTrue(empty.allSatisfy { !$0.hasData && $0.svg.contains("no data") })
        XCTAssertTrue(empty[0].caption.contains("No data yet: no run folder has metrics.csv or heldout.csv with a loss column"), empty[0].caption)
        XCTAssertEqual(empty.map(\.file), ["loss.svg", "implicit-accuracy.svg", "z.svg", "record.svg", "credit.svg", "credit-dLdD.svg",
                                           "heldout-by-t.svg"])
    }

    /// 8x8 samples scale by 8 to 64 px cells with 2 px gaps: 3 prompts x 2 images is
    /// 2*64 + 3*2 = 134 wide, 3*64 + 4*2 = 200 high; the overview of 2 models x 3 prompts the
    /// transpose. Prompts beyond the limit are dropped.
    func testGridPixelSizes() throws {
        func image(_ v: UInt8) -> RGBImage { RGBImage(width: 8, height: 8, fill: (v, 0, 0)) }
        var samples = ReportSamples(prompts: 3, images: 2)
        samples.add("base", prompts: ["a", "b", "c", "d"], images: (0..<4).map { i in (0..<3).map { j in image(UInt8(10 * i + j)) } })
        samples.add("dde-pick-s0", prompts: ["a", "b", "c", "d"], images: (0..<4).map { i in (0..<3).map { j in image(UInt8(100 + 10 * i + j)) } })
        XCTAssertEqual(samples.prompts, ["a", "b", "c"])
        XCTAssertEqual(samples.scale, 8)
        let grid = samples.grid(samples.models[1])
        XCTAssertEqual([grid.width, grid.height], [134, 200])
        XCTAssertEqual(grid.pixels[(2 * 134 + 2) * 3], 100, "prompt 0 image 0 starts after the gap")
        XCTAssertEqual(grid.pixels[((2 + 66 * 2) * 134 + 2 + 66) * 3], 121, "prompt 2 image 1")
        let overview = samples.overview()
        XCTAssertEqual([overview.width, overview.height], [200, 134])
        XCTAssertEqual(overview.pixels[((2 + 66) * 200 + 2 + 66 * 2) * 3], 120, "row dde, column prompt 2: its image 0")
        let folder = try temporaryFolder()
        XCTAssertEqual(try samples.write(to: folder), ["grid-all.png", "grid-base.png", "grid-dde-pick-s0.png"])
        let read = try PNGFile.read(folder + "/grid-dde-pick-s0.png")
        XCTAssertEqual([read.width, read.height], [134, 200])
    }
}
