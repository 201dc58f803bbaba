import XCTest
import DDECore

/// What data-parallel training (issue 7) rests on, checked in one process: shards cover a batch
/// in order; a rank's `PreferenceBatch` shard holds exactly the images, noise and steps the whole
/// batch has for those pairs; and the gradients of a batch's shards add up to the whole batch's
/// (no layer couples the images of a batch), which is what summing over ranks computes. The
/// two-rank runs themselves are `scripts/mpi-check.sh` (in `scripts/test`).
final class DataParallelTests: XCTestCase {
    func testShardsCoverTheItemsInRankOrderAndBalance() {
        for count in [0, 1, 2, 5, 8, 31, 64] {
            for size in 1...5 {
                let shards = (0..<size).map { Cluster.shard(count, rank: $0, size: size) }
                XCTAssertEqual(shards.flatMap { Array($0) }, Array(0..<count), "count \(count), \(size) ranks")
                let sizes = shards.map(\.count)
                XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 1, "count \(count), \(size) ranks: \(sizes)")
            }
        }
    }

    func testAloneEveryCollectiveIsTheIdentity() {
        let cluster = Cluster.current
        XCTAssertFalse(cluster.isParallel)
        XCTAssertEqual(cluster.shard(7), 0..<7)
        XCTAssertEqual(cluster.gather(count: 3, itemSize: 2) { r -> [Float] in r.flatMap { [Float($0), -Float($0)] } },
                       [0, 0, 1, -1, 2, -2])
        XCTAssertEqual(cluster.sum([1.5, 2]), [1.5, 2])
        XCTAssertTrue(cluster.any(true))
        XCTAssertFalse(cluster.any(false))
    }

    /// `ranks = N`: mpirun's command line runs N copies of this executable with the original
    /// arguments, unbound, copies in place of CMA, and asks for root's permission only as root.
    func testTheRanksLauncherRunsTheSameCommandOnNRanks() {
        let args = ["--config", "configs/sd15.conf", "steps=3"]
        let line = MPILauncher.commandLine(mpirun: "/usr/bin/mpirun", ranks: 3, executable: "/x/dde-train", arguments: args, asRoot: false)
        XCTAssertEqual(line.first, "/usr/bin/mpirun")
        XCTAssertEqual(Array(line.suffix(4)), ["/x/dde-train"] + args)
        let np = line.firstIndex(of: "-np")!
        XCTAssertEqual(line[np + 1], "3")
        XCTAssertEqual(line[np + 2], "/x/dde-train")
        XCTAssertEqual(line[line.firstIndex(of: "--bind-to")! + 1], "none")
        XCTAssertFalse(line.contains("--allow-run-as-root"))
        let asRoot = MPILauncher.commandLine(mpirun: "m", ranks: 2, executable: "e", arguments: [], asRoot: true)
        XCTAssertEqual(asRoot[1], "--allow-run-as-root")
        XCTAssertEqual(asRoot.last, "e")
        // mpirun is looked up on PATH, first match wins; none is nil (then the command says so).
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mpirun-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        XCTAssertNil(MPILauncher.findMPIRun(path: folder + ":/nonexistent"))
        XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/mpirun", contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755]))
        XCTAssertEqual(MPILauncher.findMPIRun(path: "/nonexistent:" + folder), folder + "/mpirun")
    }

    /// Two ranks' shards of a preference batch, filled from the same stream, are the whole
    /// batch's images for their pairs (winners, then losers), with or without shared noise.
    func testPreferenceBatchShardsAreTheWholeBatchsImages() {
        let schedule = NoiseSchedule(kind: .scaledLinear, timesteps: 1000)
        var data = TestData(seed: 31)
        let size = 4, d = 3 * size * size, count = 5
        let pairs = (0..<count).map { i in
            PreferencePairs.Pair(caption: "pair \(i)", winner: data.normal(d), loser: data.normal(d), winnerScore: 1, loserScore: 0)
        }
        let t = (0..<count).map { 1 + $0 * 199 }
        for (preference, shared) in [(true, true), (true, false), (false, false)] {
            let whole = PreferenceBatch(capacity: count, sampleSize: size)
            var rng = RandomStream(seed: 8)
            whole.fill(pairs, t: t, preference: preference, sharedNoise: shared, schedule: schedule, rng: &rng)
            for shard in [0..<2, 2..<5, 4..<5] {
                let part = PreferenceBatch(capacity: count, sampleSize: size)
                var rng = RandomStream(seed: 8)
                part.fill(pairs, t: t, preference: preference, sharedNoise: shared, schedule: schedule, rng: &rng, shard: shard)
                XCTAssertEqual(part.images, preference ? 2 * shard.count : shard.count)
                for i in 0..<part.images {
                    // Image i of the shard is the whole batch's winner (or loser) of pair lo + i % p.
                    let pair = shard.lowerBound + i % shard.count, loser = i >= shard.count
                    let j = loser ? count + pair : pair
                    let what = "preference \(preference), shared \(shared), shard \(shard), image \(i)"
                    XCTAssertEqual(array(part.xt.pointer + i * d, d), array(whole.xt.pointer + j * d, d), what)
                    XCTAssertEqual(array(part.eps.pointer + i * d, d), array(whole.eps.pointer + j * d, d), what)
                    XCTAssertEqual(part.networkSteps.pointer[i], whole.networkSteps.pointer[j], what)
                    XCTAssertEqual(part.prompts[i], whole.prompts[j], what)
                }
            }
        }
    }

    /// The U-Net's gradient of a batch's mean error equals the sum of its two halves' (each
    /// scaled by 1/batch, as every rank scales its shard): ranks may sum their gradients.
    func testShardGradientsSumToTheWholeBatchs() {
        let model = TextToImageModel(UNetConfig(blockOutChannels: [8, 16], layersPerBlock: 1, normNumGroups: 4, sampleSize: 8),
                                     tokenizer: Tokenizer(captions: ["a red circle", "a blue square"], maxTokens: 4),
                                     encoderDimension: 8)
        var rng = RandomStream(seed: 12)
        model.initialize(&rng)
        var data = TestData(seed: 13)
        let n = 6, d = model.imageSize, s = model.sampleSize
        let xt = data.normal(n * d), target = data.normal(n * d)
        let steps: [Float] = (0..<n).map { Float($0 * 150) }
        let prompts = (0..<n).map { $0 % 2 == 0 ? "a red circle" : "a blue square" }
        func gradient(_ images: Range<Int>) -> [Float] {
            model.store.zeroGrads()
            let m = images.count, e = FloatBuffer(count: m), dE = FloatBuffer(count: m), dPred = FloatBuffer(count: m * d)
            xt.withUnsafeBufferPointer { x in steps.withUnsafeBufferPointer { k in target.withUnsafeBufferPointer { y in
                let pred = model.predictNoise(x.baseAddress! + images.lowerBound * d, steps: k.baseAddress! + images.lowerBound,
                                              prompts: Array(prompts[images]))
                let yi = y.baseAddress! + images.lowerBound * d
                PerImageMSE.forward(pred: pred, target: yi, e.pointer, n: m, c: 3, h: s, w: s, model.workspace)
                dE.pointer.update(repeating: 1 / Float(n), count: m)
                PerImageMSE.backward(dE: dE.pointer, pred: pred, target: yi, dPred: dPred.pointer, dTarget: nil, n: m, c: 3, h: s, w: s, model.workspace)
                model.backward(dPred.pointer)
            } } }
            return model.store.grads.array(model.store.count)
        }
        let whole = gradient(0..<n)
        let halves = zip(gradient(0..<2), gradient(2..<n)).map { $0 + $1 }
        let scale = whole.map(abs).max()!
        XCTAssertGreaterThan(scale, 0)
        let worst = zip(whole, halves).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worst / scale, 1e-5, "max |whole - (half + half)| / max |whole|")
    }
}
