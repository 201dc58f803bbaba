import Foundation
import XCTest
import DDECore

/// The config system through its public API: files, includes, overrides, every error's exact
/// one-line text, the resolved config's round trip, and the README's copy of the key table.
final class ConfigTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("dde-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Writes `text` to `dir/name` (creating sub-folders) and returns the path.
    @discardableResult
    private func write(_ name: String, _ text: String) throws -> String {
        let path = dir + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Loading must fail with exactly `expected` as the error's one line.
    private func assertError(_ expected: String, file: String?, overrides: [String] = [],
                             sourceFile: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ConfigLoader.load(file: file, overrides: overrides), file: sourceFile, line: line) { error in
            guard let error = error as? ConfigError else {
                return XCTFail("not a ConfigError: \(error)", file: sourceFile, line: line)
            }
            XCTAssertEqual(error.description, expected, file: sourceFile, line: line)
            XCTAssertFalse(error.description.contains("\n"), "one line", file: sourceFile, line: line)
        }
    }

    private static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    // MARK: - The table

    func testTableIsConsistentAndDefaultsResolve() throws {
        let names = ConfigKeys.all.map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "key names are unique")
        for key in ConfigKeys.all {
            XCTAssertNotNil(key.name.range(of: "^[a-z][a-z0-9_-]*(\\.[a-z][a-z0-9_-]*)*$", options: .regularExpression), key.name)
            XCTAssertFalse(key.doc.isEmpty, key.name)
            XCTAssertFalse(key.doc.contains("\n"), key.name)
            XCTAssertFalse(key.section.isEmpty, key.name)
            XCTAssertNoThrow(try key.parse(key.defaultText), "default of \(key.name) parses and passes its checks")
            XCTAssertTrue(ConfigKeys.key(key.name) != nil)
        }
        XCTAssertNil(ConfigKeys.key("nope"))

        // The defaults also pass the checks between keys.
        let config = try ConfigLoader.load(file: nil, overrides: [])
        XCTAssertEqual(config.name, "default")
        XCTAssertNil(config.sourceFile)
        XCTAssertEqual(config.outDirectory, "runs/default")
        XCTAssertEqual(config.settings.map(\.key.name), names)
        XCTAssertTrue(config.settings.allSatisfy { $0.origin == .defaultValue })
        XCTAssertEqual(config.int("seed"), 0)
        XCTAssertEqual(config.int("threads"), 2)
        XCTAssertEqual(config.intList("block_out_channels"), [32, 64])
        XCTAssertEqual(config.string("schedule"), "scaled_linear")
        XCTAssertEqual(config.double("lr"), 2e-5)
        XCTAssertEqual(config.float("lr"), Float(2e-5))
        XCTAssertEqual(config.double("adam_eps"), 1e-8)
        XCTAssertEqual(config.int("bench.repeats"), 10)
        XCTAssertEqual(config.string("resume"), "")
    }

    func testValuesParseWithClearMessages() throws {
        let batch = try XCTUnwrap(ConfigKeys.key("batch"))
        XCTAssertEqual(try batch.parse("8"), .int(8))
        XCTAssertThrowsError(try batch.parse("abc")) {
            XCTAssertEqual(($0 as? ConfigError)?.description, "key 'batch': expected an integer, got 'abc'")
        }
        let lr = try XCTUnwrap(ConfigKeys.key("lr"))
        XCTAssertEqual(try lr.parse("1e-3"), .float(1e-3))
        XCTAssertThrowsError(try lr.parse("nan"))
        XCTAssertThrowsError(try lr.parse("0")) {
            XCTAssertEqual(($0 as? ConfigError)?.description, "key 'lr': 0.0 must be > 0")
        }
        let channels = try XCTUnwrap(ConfigKeys.key("block_out_channels"))
        XCTAssertEqual(try channels.parse("16, 32,64"), .intList([16, 32, 64]))
        XCTAssertThrowsError(try channels.parse("32,4")) {
            XCTAssertEqual(($0 as? ConfigError)?.description, "key 'block_out_channels': entry 2 (4) must be >= 8")
        }
        XCTAssertThrowsError(try channels.parse("8,8,8,8,8")) {
            XCTAssertEqual(($0 as? ConfigError)?.description, "key 'block_out_channels': has 5 entries, expected 1...4")
        }
        XCTAssertThrowsError(try channels.parse("32,,64")) {
            XCTAssertEqual(($0 as? ConfigError)?.description,
                           "key 'block_out_channels': expected a comma-separated list of integers, got '32,,64' (an entry is empty)")
        }
        let schedule = try XCTUnwrap(ConfigKeys.key("schedule"))
        XCTAssertThrowsError(try schedule.parse("scaled-linear")) {
            XCTAssertEqual(($0 as? ConfigError)?.description,
                           "key 'schedule': expected one of linear, scaled_linear, squaredcos_cap_v2, got 'scaled-linear' (did you mean 'scaled_linear'?)")
        }
    }

    // MARK: - Files

    func testParsesAssignmentsCommentsAndBlankLines() throws {
        let path = try write("x.conf", """
            # a whole-line comment

              # an indented comment
            lr = 1e-3   # a trailing comment
            batch=8
            \tsteps =\t50\t# tabs
            block_out_channels = 16, 32
            trace = runs/a#b
            out =
            schedule = linear\r
            """)
        let config = try ConfigLoader.load(file: path, overrides: [])
        XCTAssertEqual(config.double("lr"), 1e-3)
        XCTAssertEqual(config.int("batch"), 8)
        XCTAssertEqual(config.int("steps"), 50)
        XCTAssertEqual(config.intList("block_out_channels"), [16, 32])
        XCTAssertEqual(config.string("trace"), "runs/a#b", "a '#' not after a space is part of the value")
        XCTAssertEqual(config.string("schedule"), "linear")
        XCTAssertEqual(config.origin("lr"), .file(path, line: 4))
        XCTAssertEqual(config.origin("steps"), .file(path, line: 6))
        XCTAssertEqual(config.origin("seed"), .defaultValue)
        XCTAssertEqual(config.name, "x")
        XCTAssertEqual(config.sourceFile, path)
        XCTAssertEqual(config.outDirectory, "runs/x", "an empty out is runs/<config name>")
    }

    func testIncludeIsRelativeToTheIncludingFileAndLaterWins() throws {
        try write("shared/deeper.conf", "seed = 7\nwarmup_steps = 3\n")
        try write("shared/common.conf", """
            include = deeper.conf
            lr = 1e-4
            batch = 16
            steps = 100
            warmup_steps = 5
            """)
        let main = try write("configs/main.conf", """
            lr = 1e-3
            include = ../shared/common.conf
            batch = 8
            """)
        let config = try ConfigLoader.load(file: main, overrides: [])
        XCTAssertEqual(config.double("lr"), 1e-4, "the include comes later than the including file's lr")
        XCTAssertEqual(config.int("batch"), 8, "the including file's later line wins over the include")
        XCTAssertEqual(config.int("steps"), 100)
        XCTAssertEqual(config.int("warmup_steps"), 5, "a later line of the including file wins over its include")
        XCTAssertEqual(config.int("seed"), 7, "an include inside an include is relative to its own file")
        XCTAssertEqual(config.origin("batch"), .file(main, line: 3))
        XCTAssertEqual(config.origin("lr"), .file(dir + "/configs/../shared/common.conf", line: 2))
        XCTAssertEqual(config.origin("seed"), .file(dir + "/configs/../shared/deeper.conf", line: 1))
        XCTAssertEqual(config.name, "main")
    }

    func testOverridesWinOverEverything() throws {
        try write("base.conf", "lr = 1e-4\nthreads = 1\n")
        let path = try write("x.conf", "include = base.conf\nlr = 1e-3\nsteps = 10\n")
        let config = try ConfigLoader.load(file: path, overrides: ["lr=5e-5", "steps = 20", "steps=30", "out=elsewhere/run"])
        XCTAssertEqual(config.double("lr"), 5e-5)
        XCTAssertEqual(config.origin("lr"), .commandLine)
        XCTAssertEqual(config.int("steps"), 30, "the last override of a key wins")
        XCTAssertEqual(config.int("threads"), 1)
        XCTAssertEqual(config.outDirectory, "elsewhere/run")
        XCTAssertEqual(config.origin("out"), .commandLine)

        let noFile = try ConfigLoader.load(file: nil, overrides: ["batch=4"])
        XCTAssertEqual(noFile.int("batch"), 4)
        XCTAssertEqual(noFile.outDirectory, "runs/default")
    }

    // MARK: - Errors, each with its exact line

    func testUnknownKeysSuggestTheClosestKey() throws {
        let path = try write("x.conf", "# lr typo\n\nlrr = 1e-3\n")
        assertError("\(path):3: unknown key 'lrr' (did you mean 'lr'?)", file: path)

        let suffix = try write("y.conf", "repeats = 5\n")
        assertError("\(suffix):1: unknown key 'repeats' (did you mean 'bench.repeats'?)", file: suffix)

        let typo = try write("z.conf", "seed = 1\nblock_out_chanels = 16,32\n")
        assertError("\(typo):2: unknown key 'block_out_chanels' (did you mean 'block_out_channels'?)", file: typo)

        let far = try write("w.conf", "learning_rate_schedule = 1\n")
        assertError("\(far):1: unknown key 'learning_rate_schedule' (run 'dde-train config' to list the keys)", file: far)

        assertError("command line: override 'lrr=1': unknown key 'lrr' (did you mean 'lr'?)", file: nil, overrides: ["lrr=1"])
        assertError("command line: override 'bench.repeat=4': unknown key 'bench.repeat' (did you mean 'bench.repeats'?)",
                    file: nil, overrides: ["bench.repeat=4"])
    }

    func testBadValuesNameFileLineAndKey() throws {
        let notInt = try write("a.conf", "lr = 1e-3\nsteps = 10\nbatch = 3.5\n")
        assertError("\(notInt):3: key 'batch': expected an integer, got '3.5'", file: notInt)

        let range = try write("b.conf", "\n\n\n\n\n\nthreads = 0 # none\n")
        assertError("\(range):7: key 'threads': 0 is out of range 1...64", file: range)

        let choice = try write("c.conf", "schedule = cosine\n")
        assertError("\(choice):1: key 'schedule': expected one of linear, scaled_linear, squaredcos_cap_v2, got 'cosine'", file: choice)

        let list = try write("d.conf", "block_out_channels = 32,x\n")
        assertError("\(list):1: key 'block_out_channels': expected a comma-separated list of integers, got '32,x' ('x' is not one of them)", file: list)

        let float = try write("e.conf", "lr = fast\n")
        assertError("\(float):1: key 'lr': expected a number, got 'fast'", file: float)

        assertError("command line: override 'batch=3.5': key 'batch': expected an integer, got '3.5'", file: nil, overrides: ["batch=3.5"])
        assertError("command line: override 'threads=65': key 'threads': 65 is out of range 1...64", file: nil, overrides: ["threads=65"])
        assertError("command line: override 'out=a #b': key 'out': 'a #b' cannot hold a newline or a '#' after a space (it starts a comment in config files)",
                    file: nil, overrides: ["out=a #b"])
    }

    func testMalformedLinesAndOverrides() throws {
        let path = try write("x.conf", "lr = 1e-3\nbatch 8\n")
        assertError("\(path):2: expected 'key = value', got 'batch 8'", file: path)

        let emptyKey = try write("y.conf", "= 3\n")
        assertError("\(emptyKey):1: expected 'key = value', got '= 3'", file: emptyKey)

        assertError("command line: override 'lr': expected 'key=value'", file: nil, overrides: ["lr"])
        assertError("command line: override 'configs/x.conf': expected 'key=value' (to load a config file, use --config configs/x.conf)",
                    file: nil, overrides: ["configs/x.conf"])
        assertError("command line: override 'include=x.conf': include works only inside config files", file: nil, overrides: ["include=x.conf"])
    }

    func testDuplicateKeyInOneFileIsAnError() throws {
        let path = try write("x.conf", "seed = 1\n\n# lr\nlr = 1e-3\nbatch = 8\n\n\n\nlr = 1e-4\n")
        assertError("\(path):9: duplicate key 'lr' (first set on line 4)", file: path)

        // The same key in an included file and in the including file is not a duplicate.
        try write("inc.conf", "lr = 1e-4\n")
        let ok = try write("ok.conf", "lr = 1e-3\ninclude = inc.conf\n")
        XCTAssertEqual(try ConfigLoader.load(file: ok, overrides: []).double("lr"), 1e-4)
    }

    func testMissingFilesAndIncludes() throws {
        let path = try write("x.conf", "seed = 1\ninclude = missing.conf\n")
        assertError("\(path):2: include 'missing.conf' not found (looked for \(dir)/missing.conf)", file: path)

        let nope = dir + "/nope.conf"
        assertError("\(nope): cannot read the file (No such file or directory)", file: nope)

        let empty = try write("e.conf", "include =\n")
        assertError("\(empty):1: include needs a file name, e.g. 'include = common.conf'", file: empty)

        // An error inside an included file names that file's line.
        try write("sub/bad.conf", "\nbatch = many\n")
        let outer = try write("outer.conf", "include = sub/bad.conf\n")
        assertError("\(dir)/sub/bad.conf:2: key 'batch': expected an integer, got 'many'", file: outer)
    }

    func testIncludeCycleIsAnError() throws {
        let a = try write("a.conf", "seed = 1\ninclude = b.conf\n")
        let b = try write("b.conf", "include = a.conf\n")
        assertError("\(b):1: include cycle: \(a) -> \(b) -> \(dir)/a.conf", file: a)

        let own = try write("self.conf", "include = ./self.conf\n")
        assertError("\(own):1: include cycle: \(own) -> \(dir)/./self.conf", file: own)
    }

    // MARK: - Checks between keys

    func testNormNumGroupsMustDivideEveryChannelCount() throws {
        let path = try write("x.conf", "block_out_channels = 16,24\nnorm_num_groups = 16\n")
        assertError("\(path):2: keys 'norm_num_groups' (16, \(path):2) and 'block_out_channels' (16,24, \(path):1): "
                    + "16 does not divide 24; GroupNorm needs every block_out_channels entry to be a multiple of norm_num_groups",
                    file: path)
        // Located where the stronger of the two keys was set.
        assertError("command line: keys 'norm_num_groups' (8, default) and 'block_out_channels' (12,20, command line): "
                    + "8 does not divide 12; GroupNorm needs every block_out_channels entry to be a multiple of norm_num_groups",
                    file: nil, overrides: ["block_out_channels=12,20"])
        let ok = try ConfigLoader.load(file: nil, overrides: ["block_out_channels=12,24", "norm_num_groups=4"])
        XCTAssertEqual(ok.int("norm_num_groups"), 4)
    }

    func testOtherChecksBetweenKeys() throws {
        assertError("command line: keys 'sample_size' (10, command line) and 'block_out_channels' (32,64,128, command line): "
                    + "10 is not a multiple of 4 = 2^(3-1); each of the 3 levels but the last halves the image",
                    file: nil, overrides: ["block_out_channels=32,64,128", "sample_size=10"])
        XCTAssertNoThrow(try ConfigLoader.load(file: nil, overrides: ["sample_size=12"]))
        assertError("command line: keys 'beta_start' (0.02, command line) and 'beta_end' (0.012, default): beta_start must be below beta_end",
                    file: nil, overrides: ["beta_start=0.02"])
        assertError("command line: keys 'pretrain.grad_accum' (3, command line) and 'pretrain.batch' (128, default): "
                    + "3 does not divide 128; the batch is split into pretrain.grad_accum equal micro-batches",
                    file: nil, overrides: ["pretrain.grad_accum=3"])
    }

    // MARK: - The resolved config

    func testRenderedParsesBackToTheSameValues() throws {
        let path = try write("run.conf", "lr = 3e-4\nblock_out_channels = 16,32,64\nsample_size = 32\n")
        let config = try ConfigLoader.load(file: path, overrides: [
            "adam_eps=1e-10", "beta_end=0.0120000001", "weight_decay=0.30000000000000004",
            "resume=auto", "trace=data/my pairs.bin", "schedule=squaredcos_cap_v2", "seed=123456789",
        ])
        let text = config.rendered()
        XCTAssertTrue(text.hasPrefix("# dde-train \(DDEVersion.string)"))
        // Lines are `key`, padded to the longest key, ` = value`, and an origin comment.
        func line(_ key: String, _ rest: String) -> Bool {
            text.split(separator: "\n").contains { $0.hasPrefix(key + " ") && $0.drop(while: { $0 != "=" }) == "= " + rest }
        }
        XCTAssertTrue(line("lr", "0.0003  # \(path):1"), text)
        XCTAssertTrue(line("seed", "123456789  # command line"), text)
        XCTAssertTrue(line("threads", "2"), "defaults have no origin comment")
        XCTAssertTrue(line("out", "runs/run"), "out is written resolved")
        // Every key, in table order.
        let keys = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
            .map { $0.split(separator: "=")[0].trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(keys, ConfigKeys.all.map(\.name))

        let again = try ConfigLoader.load(file: try write("again.conf", text), overrides: [])
        for (a, b) in zip(config.settings, again.settings) {
            XCTAssertEqual(a.value, b.value, a.key.name)
        }
        XCTAssertEqual(again.outDirectory, config.outDirectory)
        XCTAssertEqual(try ConfigLoader.load(file: nil, overrides: []).rendered().isEmpty, false)
    }

    func testWriteResolvedWritesTheRenderedFileCrashSafely() throws {
        let config = try ConfigLoader.load(file: nil, overrides: ["steps=7"])
        let run = dir + "/runs/a/b"
        try config.writeResolved(to: run)
        let path = run + "/" + Config.resolvedFileName
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), config.rendered())
        // Overwrites in place and leaves no temporary file behind.
        let other = try ConfigLoader.load(file: nil, overrides: ["steps=8"])
        try other.writeResolved(to: run)
        XCTAssertEqual(try ConfigLoader.load(file: path, overrides: []).int("steps"), 8)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: run), [Config.resolvedFileName])
    }

    // MARK: - The repository

    /// Fair tuning: each method's own beta and lr (DDE's ablations their own, then DDE's), the global
    /// keys otherwise; resolving twice changes nothing, and a grid point wins over both.
    func testMethodSettingsResolve() throws {
        let config = try ConfigLoader.load(file: nil, overrides: ["beta=5000", "lr=2e-5", "dde.beta=300", "uniform.lr=1e-5", "sft.lr=3e-5"])
        XCTAssertEqual(config.methodSettings("dde").beta, 300)
        XCTAssertEqual(config.methodSettings("dde-step").beta, 300)
        XCTAssertEqual(config.methodSettings("dde-single").lr, 2e-5)
        XCTAssertEqual(config.methodSettings("uniform").beta, 5000)
        XCTAssertEqual(config.methodSettings("uniform").lr, 1e-5)
        XCTAssertEqual(config.methodSettings("sft").lr, 3e-5)
        XCTAssertEqual(config.methodSettings("discounted").lr, 2e-5)
        let dde = try config.forMethod("dde-single")
        XCTAssertEqual(dde.string("loss"), "dde-single")
        XCTAssertEqual(dde.double("beta"), 300)
        XCTAssertEqual(try dde.forMethod("dde-single").double("beta"), 300, "idempotent")
        let point = try config.forMethod("dde", beta: 50, lr: 1e-4)
        XCTAssertEqual(point.double("beta"), 50)
        XCTAssertEqual(try point.forMethod("dde").double("beta"), 50, "a grid point stays")
        XCTAssertEqual(try point.forMethod("dde").double("lr"), 1e-4)
        // The ablations' own keys win over DDE's (issue 13: each at its own tuned beta).
        let own = try config.overriding(["dde-step.beta": "2e6", "dde-single.lr": "7e-5"])
        XCTAssertEqual(own.methodSettings("dde-step").beta, 2e6)
        XCTAssertEqual(own.methodSettings("dde-step").lr, 2e-5, "dde.lr unset: lr")
        XCTAssertEqual(own.methodSettings("dde-single").beta, 300, "dde-single.beta unset: dde.beta")
        XCTAssertEqual(own.methodSettings("dde-single").lr, 7e-5)
        XCTAssertEqual(own.methodSettings("dde").beta, 300, "DDE keeps its own")
        let step = try own.forMethod("dde-step")
        XCTAssertEqual(step.double("beta"), 2e6)
        XCTAssertEqual(try step.forMethod("dde-step").double("beta"), 2e6, "idempotent")
    }

    /// Fair tuning per annotator (issue 13): a method key's `.by_annotator` entry for the pairs'
    /// annotator wins over the key, then the chain goes on as before; a fine-tune's resolved config
    /// no longer holds the other annotators' values (its signature does not depend on them); bad
    /// entries are refused naming the key.
    func testMethodSettingsPerAnnotator() throws {
        let config = try ConfigLoader.load(file: nil, overrides: [
            "beta=5000", "lr=2e-5", "dde.beta=300", "uniform.beta.by_annotator=pick:1000,align:250", "dde.lr.by_annotator=align:9e-5",
            "dde-step.beta.by_annotator=pick:3e5",
        ])
        XCTAssertEqual(config.methodSettings("uniform", annotator: "pick").beta, 1000)
        XCTAssertEqual(config.methodSettings("uniform", annotator: "align").beta, 250)
        XCTAssertEqual(config.methodSettings("uniform", annotator: "aesthetic").beta, 5000, "not listed: uniform.beta, then beta")
        XCTAssertEqual(config.methodSettings("uniform").beta, 5000, "no annotator: the plain keys")
        XCTAssertEqual(config.methodSettings("dde", annotator: "align").lr, 9e-5)
        XCTAssertEqual(config.methodSettings("dde", annotator: "pick").lr, 2e-5)
        XCTAssertEqual(config.methodSettings("dde-single", annotator: "align").lr, 9e-5, "an ablation falls back to DDE's, per annotator too")
        XCTAssertEqual(config.methodSettings("dde-step", annotator: "pick").beta, 3e5)
        XCTAssertEqual(config.methodSettings("dde-step", annotator: "align").beta, 300)
        let run = try config.forMethod("uniform", extra: ["annotator": "align"])
        XCTAssertEqual(run.double("beta"), 250)
        XCTAssertEqual(run.stringList("uniform.beta.by_annotator"), [], "cleared once resolved")
        XCTAssertEqual(try run.forMethod("uniform", extra: ["annotator": "align"]).double("beta"), 250, "idempotent")
        let pickRun = try config.forMethod("uniform", extra: ["annotator": "pick"])
        let otherAlign = try config.overriding(["uniform.beta.by_annotator": "pick:1000,align:500"]).forMethod("uniform", extra: ["annotator": "pick"])
        XCTAssertEqual(StageSignature(.train, pickRun).text, StageSignature(.train, otherAlign).text,
                       "another annotator's value does not enter a pick fine-tune's signature")
        let otherMethod = try config.overriding(["dde-step.beta": "7e6", "sft.lr.by_annotator": "pick:1e-4"]).forMethod("uniform", extra: ["annotator": "pick"])
        XCTAssertEqual(StageSignature(.train, pickRun).text, StageSignature(.train, otherMethod).text,
                       "another method's keys do not enter a uniform fine-tune's signature")
        for bad in ["pick:0", "pick", "pik:1000", "pick:1000,pick:2000", "pick:nan"] {
            XCTAssertThrowsError(try ConfigLoader.load(file: nil, overrides: ["uniform.beta.by_annotator=\(bad)"]), bad) { error in
                XCTAssertTrue("\(error)".contains("uniform.beta.by_annotator"), "\(error)")
            }
        }
    }

    func testShippedConfigsResolve() throws {
        let configs = Self.packageRoot.appendingPathComponent("configs").path
        let smoke = try ConfigLoader.load(file: configs + "/smoke.conf", overrides: [])
        XCTAssertEqual(smoke.name, "smoke")
        XCTAssertEqual(smoke.outDirectory, "runs/smoke")
        XCTAssertEqual(smoke.intList("block_out_channels"), [16, 32])
        let sd15 = try ConfigLoader.load(file: configs + "/sd15.conf", overrides: [])
        XCTAssertEqual(sd15.intList("block_out_channels"), [32, 64])
        XCTAssertEqual(sd15.string("schedule"), "scaled_linear")
        XCTAssertEqual(sd15.int("timesteps"), 1000)
        XCTAssertEqual(sd15.double("beta_start"), 0.00085)
        XCTAssertEqual(sd15.double("beta_end"), 0.012)
    }

    /// The README's key list is `ConfigKeys.markdownTable()`, byte for byte
    /// (`scripts/gen-readme-keys` regenerates it).
    func testReadmeKeyTableMatchesTheCode() throws {
        let readme = try String(contentsOf: Self.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let begin = "<!-- config-keys:begin -->\n", end = "<!-- config-keys:end -->"
        let start = try XCTUnwrap(readme.range(of: begin), "README.md lacks \(begin)")
        let stop = try XCTUnwrap(readme.range(of: end, range: start.upperBound..<readme.endIndex), "README.md lacks \(end)")
        XCTAssertEqual(String(readme[start.upperBound..<stop.lowerBound]), ConfigKeys.markdownTable(),
                       "README.md's key table is stale: run scripts/gen-readme-keys")
    }

    /// `dde-train config` with a bad key: exit status 64, one line on stderr, nothing on stdout.
    func testBinaryRejectsABadKeyWithStatus64() throws {
        let binary = Self.packageRoot.appendingPathComponent(".build/release/dde-train")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("\(binary.path) not built (swift build -c release)")
        }
        for arguments in [["config", "lrr=1"], ["config", "--config", dir + "/nope.conf"]] {
            let process = Process()
            process.executableURL = binary
            process.arguments = arguments
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 64, "\(arguments)")
            XCTAssertTrue(stdout.isEmpty, "nothing on stdout")
            XCTAssertTrue(stderr.hasPrefix("error: "), stderr)
            XCTAssertEqual(stderr.split(separator: "\n").count, 1, stderr)
            XCTAssertTrue(stderr.hasSuffix("\n"))
            if arguments[1] == "lrr=1" {
                XCTAssertEqual(stderr, "error: command line: override 'lrr=1': unknown key 'lrr' (did you mean 'lr'?)\n")
            } else {
                XCTAssertEqual(stderr, "error: \(dir)/nope.conf: cannot read the file (No such file or directory)\n")
            }
        }
    }
}
