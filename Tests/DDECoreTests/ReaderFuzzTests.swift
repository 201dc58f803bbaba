import XCTest
import Foundation
import DDECore

/// Issue 6's fuzzing: the four readers of files a user, a typo or a crash can damage - the
/// config loader, the safetensors reader (and a model loaded from it), the PNG decoder and the
/// pairs reader - each take thousands of inputs: random bytes, cuts of a valid file made by the
/// project's own writer, and mutations of it (flipped, inserted and deleted bytes, numbers
/// replaced by edge values, lengths and sizes in headers set past the end, deep nesting, very
/// long lines). Every input ends in a parse or a one-line error of the reader's kind naming the
/// file, without a large allocation (the slowest case is printed).
///
/// Everything derives from `seed`: a failure prints the seed and case number (and a trap, which
/// no test can catch, prints them on stderr through `CrashNote`). Run both builds: debug has
/// bounds checks that trap on a slip, release (-Ounchecked) reads garbage or segfaults instead.
final class ReaderFuzzTests: XCTestCase {
    static let seed: UInt64 = 6

    private static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func temporaryFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dde-fuzz-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Replaces `path` with `bytes` as a new file, unsynced: rewriting a file in place (or
    /// `Data.write`) costs milliseconds on ext4, which flushes a truncated file on close.
    private func write(_ bytes: [UInt8], to path: String) throws {
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw FileError(path: path, action: "write the file", reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw FileError(path: path, action: "write the file", reason: "short write") }
    }

    /// nil when `error` is a `T` whose one line starts with one of `prefixes`, else the problem.
    private func expect<T: Error>(_ type: T.Type, _ error: Error, startsWith prefixes: String...) -> String? {
        guard error is T else { return "not a \(T.self)" }
        let message = "\(error)"
        return prefixes.contains(where: message.hasPrefix) ? nil : "does not start with \(prefixes.joined(separator: " or "))"
    }

    // MARK: - Config

    /// The shipped sd15.conf and sdxl.conf (which includes it): cut, mutated, and rewritten line by
    /// line with every key and edge values; the same lines as `key=value` overrides.
    func testConfigLoaderSurvivesFuzzing() throws {
        let dir = try temporaryFolder()
        let sources = try ["sd15.conf", "sdxl.conf"].map { name -> [UInt8] in
            let bytes = try FileIO.read(Self.packageRoot.appendingPathComponent("configs/" + name).path)
            try write(bytes, to: dir + "/" + name)
            return bytes
        }
        let path = dir + "/fuzz.conf"
        let run = FuzzRun(reader: "config", seed: Self.seed)
        var inputs = FuzzInputs(seed: Self.seed, stream: 1)
        let expected = { (error: Error) in self.expect(ConfigError.self, error, startsWith: dir + "/", "command line: ") }
        func attempt(_ overrides: [String] = []) -> ([UInt8]) throws -> Void {
            { bytes in
                try self.write(bytes, to: path)
                _ = try ConfigLoader.load(file: path, overrides: overrides)
            }
        }

        for (i, source) in sources.enumerated() {
            for cut in 0..<source.count {
                run.run("cut \(cut) of \(i == 0 ? "sd15" : "sdxl")", Array(source.prefix(cut)), expected: expected, attempt())
            }
        }
        for _ in 0..<300 {
            run.run("random", inputs.random(maxLength: 400), expected: expected, attempt())
        }
        for _ in 0..<800 {
            let (kind, bytes) = inputs.mutate(inputs.pick(sources))
            run.run(kind, bytes, expected: expected, attempt())
        }
        for (i, source) in sources.enumerated() {  // Windows and old Mac line ends
            for ending in ["\r\n", "\r"] {
                let text = String(decoding: source, as: UTF8.self).replacingOccurrences(of: "\n", with: ending)
                run.run("line ends \(ending.debugDescription) \(i)", Array(text.utf8), expected: expected, attempt())
            }
        }
        // Lines a user could type: any key (or a near miss), any edge value, as a file line and
        // as an override; values are lists, t_range-like pairs, long and odd words. Half the lines
        // set a key the checks between keys read, whose values are used in arithmetic.
        let names = ConfigKeys.all.map(\.name) + ["include", "lrr", "", "a b", "dde.", "LR"]
        let crossKeys = ["block_out_channels", "norm_num_groups", "sample_size", "beta_start", "beta_end", "pretrain.batch", "pretrain.grad_accum",
                         "dde.record_buckets", "timesteps", "t_range", "compare.t_range"]
        let words = FuzzInputs.edgeNumbers + ["true", "off", "linear", "32,64", "8,,16", ",", "0:1", "0.2:0.7", "200:700",
                                              "1:0", "0:", ":", "1e300:1e301", "0:inf", "inf:inf", "-1:5", "9223372036854775807:9223372036854775808",
                                              "a # b", "#", "x\u{0}y", "x\ry", "\u{1b}[2J", "\u{FEFF}1", "é", String(repeating: "9", count: 5000),
                                              "sd15.conf", "fuzz.conf", "../", "/", "nope.conf"]
        for _ in 0..<700 {
            var lines: [String] = []
            for _ in 0..<(1 + inputs.int(below: 3)) {
                let value = inputs.int(below: 3) == 0
                    ? "\(inputs.pick(words)):\(inputs.pick(words))"
                    : (0..<(1 + inputs.int(below: 2))).map { _ in inputs.pick(words) }.joined(separator: ",")
                lines.append("\(inputs.pick(inputs.int(below: 2) == 0 ? names : crossKeys)) = \(value)")
            }
            let text = (inputs.int(below: 2) == 0 ? "include = sd15.conf\n" : "") + lines.joined(separator: "\n")
            run.run("lines", Array(text.utf8), expected: expected, attempt())
            run.run("overrides", [], expected: expected, attempt(lines.map { $0.replacingOccurrences(of: " = ", with: "=") }))
        }
        run.finish()
        XCTAssertGreaterThan(run.parsed, 100, "some cuts and mutations are still valid configs")
    }

    /// Found by fuzzing: `t_range = 0:1e30` (or `0:inf`) trapped converting the step bound to
    /// `Int`; a bound past T is now the error any segment outside 1...T gets.
    func testTimestepRangePastIntIsAnErrorNotATrap() {
        for key in ["t_range", "compare.t_range"] {
            for range in ["0:1e30", "0:inf", "1e300:2e300", "5000:1e19"] {
                XCTAssertThrowsError(try ConfigLoader.load(file: nil, overrides: ["\(key)=\(range)"])) { error in
                    XCTAssertEqual("\(error)", "command line: keys '\(key)' (\(range), command line) and 'timesteps' (1000, default): "
                                   + "'\(range)' selects no step within 1...1000")
                }
            }
        }
    }

    /// Found by fuzzing: a config saved with Windows line ends was one line to the loader, so a
    /// file that starts with a comment was skipped whole and every key silently kept its default.
    func testConfigWithWindowsLineEndsIsReadLineByLine() throws {
        let path = try temporaryFolder() + "/crlf.conf"
        try write(Array("# a comment\r\nseed = 7\r\nlr = 1e-3\r\n".utf8), to: path)
        let config = try ConfigLoader.load(file: path, overrides: [])
        XCTAssertEqual(config.int("seed"), 7)
        XCTAssertEqual(config.origin("lr"), .file(path, line: 3))
        try write(Array("seed = 7\r\nbatch = x\r\n".utf8), to: path)
        XCTAssertThrowsError(try ConfigLoader.load(file: path, overrides: [])) { error in
            XCTAssertEqual("\(error)", "\(path):2: key 'batch': expected an integer, got 'x'")
        }
    }

    /// Found by fuzzing: an error quoting a stray carriage return (or an escape sequence) from
    /// the file was not one line on a terminal; control characters are now escaped.
    func testConfigErrorsEscapeControlCharacters() throws {
        let path = try temporaryFolder() + "/cr.conf"
        try write(Array("block_out_channels = 16\r32\nlrr\u{1b}[2J = 1\n".utf8), to: path)
        XCTAssertThrowsError(try ConfigLoader.load(file: path, overrides: [])) { error in
            XCTAssertEqual("\(error)", "\(path):1: key 'block_out_channels': '16\\r32' cannot hold a newline or a '#' after a space "
                           + "(it starts a comment in config files)")
        }
        try write(Array("lrr\u{1b}[2J = 1\n".utf8), to: path)
        XCTAssertThrowsError(try ConfigLoader.load(file: path, overrides: [])) { error in
            XCTAssertEqual("\(error)", "\(path):1: unknown key 'lrr\\u{1b}[2J' (run 'dde-train config' to list the keys)")
        }
    }

    // MARK: - Safetensors

    /// A tiny model's checkpoint as Pretrainer writes it (parameters, AdamW moments, the metadata
    /// `Checkpoint.loadModel` rebuilds the model from), and the bytes where its header ends.
    private func tinyCheckpoint() throws -> (file: [UInt8], headerEnd: Int, model: TextToImageModel, metadata: [String: String]) {
        let config = try ConfigLoader.load(file: nil, overrides: ["block_out_channels=8,16", "norm_num_groups=4",
                                                                   "sample_size=8", "encoder.dim=8", "encoder.max_tokens=4"])
        let model = TextToImageModel(UNetConfig(blockOutChannels: [8, 16], layersPerBlock: 1, normNumGroups: 4, sampleSize: 8),
                                     tokenizer: Tokenizer(captions: ["a red circle", "a blue square"], maxTokens: 4),
                                     encoderDimension: 8)
        var rng = RandomStream(seed: Self.seed)
        model.initialize(&rng)
        var metadata = Checkpoint.modelMetadata(model, config: config, build: BuildInfo(commit: "fuzz"), stage: "pretrain")
        metadata["step"] = "3"
        let m = FloatBuffer(count: model.store.count), v = FloatBuffer(count: model.store.count)
        for i in 0..<model.store.count { m.pointer[i] = Float(i) * 1e-3; v.pointer[i] = 1 }
        let file = [UInt8](try model.store.safeTensorsWriter(metadata: metadata, buffers: ["adam.m": m, "adam.v": v]).encoded())
        let headerBytes = file.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        return (file, 8 + headerBytes, model, metadata)
    }

    /// `header` (JSON text) and `data` as a safetensors file, the length field recomputed.
    private func safeTensorsFile(header: [UInt8], data: ArraySlice<UInt8>) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) } + header + data
    }

    /// Reads every tensor of a file that validated, as the model loader and the resume code do.
    private func readEveryTensor(_ file: SafeTensorsReader) throws {
        for t in file.tensors {
            switch t.dtype {
            case .f32, .f16, .bf16: _ = try file.floats(t.name)
            case .u64: _ = try file.values(t.name, as: UInt64.self)
            default: _ = try file.withRawBytes(of: t.name) { $0.reduce(0) { $0 &+ Int($1) } }
            }
        }
    }

    /// A real checkpoint: cuts through its header and over its data, mutations aimed at
    /// the header, the length field and the header's numbers set to edge values (offsets and
    /// shapes past the end, 2^63, overflowing products), deep nesting, long names. A file that
    /// still validates is loaded as a model when its header changed.
    func testSafeTensorsReaderSurvivesFuzzing() throws {
        let dir = try temporaryFolder()
        let (valid, headerEnd, _, _) = try tinyCheckpoint()
        let header = Array(valid[8..<headerEnd]), data = valid[headerEnd...]
        let path = dir + "/fuzz.safetensors"
        let run = FuzzRun(reader: "safetensors", seed: Self.seed)
        var inputs = FuzzInputs(seed: Self.seed, stream: 2)
        let expected = { (error: Error) in self.expect(SafeTensorsError.self, error, startsWith: path + ": ") }
        var modelLoads = 0
        func attempt(_ bytes: [UInt8]) throws {
            let file = try SafeTensorsReader(data: Data(bytes), name: path)
            try readEveryTensor(file)
            guard bytes.count < 8 + header.count || bytes[8..<(8 + header.count)] != header[...] else { return }
            try write(bytes, to: path)
            modelLoads += 1
            _ = try Checkpoint.loadModel(path)
        }

        // Every cut in the length field and the first tensors' entries, dense through the rest of
        // the header, a spread over the data.
        let cuts = FuzzInputs.cuts(0..<200, count: 200) + FuzzInputs.cuts(200..<headerEnd, count: 1000)
            + FuzzInputs.cuts(headerEnd..<valid.count, count: 300)
        for cut in cuts {
            run.run("cut \(cut)", Array(valid.prefix(cut)), expected: expected, attempt)
        }
        for k in 0..<300 {
            var bytes = inputs.random(maxLength: 600)
            if k % 2 == 0, bytes.count >= 8 {  // a plausible length field
                let n = inputs.int(below: bytes.count)
                for b in 0..<8 { bytes[b] = UInt8(truncatingIfNeeded: n >> (8 * b)) }
            }
            run.run("random", bytes, expected: expected, attempt)
        }
        for _ in 0..<1000 {
            let (kind, bytes) = inputs.mutate(valid, focus: 0..<headerEnd)
            run.run(kind, bytes, expected: expected, attempt)
        }
        let lengths: [UInt64] = [1 << 63, UInt64.max, (1 << 63) - 1, 100_000_000, 100_000_001, UInt64(valid.count), UInt64(valid.count - 8),
                                 UInt64(header.count + 1), UInt64(header.count - 1), 0, 1, 2]
        for n in lengths {
            run.run("length field \(n)", (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) } + valid[8...], expected: expected, attempt)
        }
        // The header's numbers (offsets, shapes) replaced by edge values, the length recomputed so
        // the reader gets past it: every offset and shape check is reached.
        for _ in 0..<800 {
            var text = header
            for _ in 0..<(1 + inputs.int(below: 3)) { text = inputs.replacingNumber(in: text, focus: 0..<text.count) }
            run.run("header number", safeTensorsFile(header: text, data: data), expected: expected, attempt)
        }
        // Structure: a deeply nested value, a long name, a duplicate key.
        let firstBrace = header.firstIndex(of: UInt8(ascii: "{"))! + 1
        for depth in [63, 64, 65, 1000, 100_000] {
            let nest = Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + ",").utf8)
            var text = header
            text.insert(contentsOf: Array("\"deep\":".utf8) + nest, at: firstBrace)
            run.run("nested \(depth)", safeTensorsFile(header: text, data: data), expected: expected, attempt)
        }
        for length in [200, 201, 100_000] {
            var text = header
            text.insert(contentsOf: Array("\"\(String(repeating: "n", count: length))\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},".utf8),
                        at: firstBrace)
            run.run("long name \(length)", safeTensorsFile(header: text, data: data), expected: expected, attempt)
        }
        var duplicate = header
        duplicate.insert(contentsOf: Array("\"__metadata__\":{},".utf8), at: firstBrace)
        run.run("duplicate key", safeTensorsFile(header: duplicate, data: data), expected: expected, attempt)
        run.finish()
        XCTAssertGreaterThan(modelLoads, 50, "mutations that keep the file valid reach Checkpoint.loadModel")
    }

    /// The metadata `Checkpoint.loadModel` rebuilds the model from (the U-Net's config, the
    /// tokenizer, the encoder width), mutated inside a file that is valid safetensors, so every
    /// case reaches the model loader.
    func testCheckpointMetadataSurvivesFuzzing() throws {
        let dir = try temporaryFolder()
        let (_, _, model, metadata) = try tinyCheckpoint()
        let path = dir + "/model.safetensors"
        let run = FuzzRun(reader: "checkpoint", seed: Self.seed)
        var inputs = FuzzInputs(seed: Self.seed, stream: 3)
        let expected = { (error: Error) in self.expect(SafeTensorsError.self, error, startsWith: path + ": ") }
        let keys = ["unet_config", "tokenizer", "encoder_dim"]
        for _ in 0..<1000 {
            var changed = metadata
            let key = inputs.pick(keys)
            let original = Array(metadata[key]!.utf8)
            var kind = key + " "
            switch inputs.int(below: 3) {
            case 0:
                let (k, bytes) = inputs.mutate(original)
                kind += k
                changed[key] = String(decoding: bytes, as: UTF8.self)
            default:
                kind += "number"
                changed[key] = String(decoding: inputs.replacingNumber(in: original, focus: 0..<original.count), as: UTF8.self)
            }
            let bytes = [UInt8](try model.store.safeTensorsWriter(metadata: changed).encoded())
            run.run(kind, bytes, expected: expected) { bytes in
                try self.write(bytes, to: path)
                _ = try Checkpoint.loadModel(path)
            }
        }
        run.finish()
    }

    /// Found by fuzzing: a model file's metadata was trusted - `encoder_dim` 4294967296 asked
    /// for terabytes, channels past the file's size likewise, groups that do not divide the
    /// channels and a vocabulary without `<pad>` stopped a precondition. Each is now a one-line
    /// error before the model is allocated.
    func testCheckpointWithAbsurdArchitectureIsRefusedBeforeAllocating() throws {
        let path = try temporaryFolder() + "/model.safetensors"
        let (_, _, model, metadata) = try tinyCheckpoint()
        let unet = metadata["unet_config"]!, tokenizer = metadata["tokenizer"]!
        let cases = [
            ("encoder_dim", "4294967296", "metadata encoder_dim: key 'encoder.dim': 4294967296 is out of range 4...512"),
            ("unet_config", unet.replacingOccurrences(of: "[8,16]", with: "[8,4294967296]"),
             "metadata unet_config: 4294967296 channels need more weights than the file's \(model.store.count) values"),
            ("unet_config", unet.replacingOccurrences(of: "\"normNumGroups\":4", with: "\"normNumGroups\":3"),
             "metadata unet_config: norm_num_groups 3 does not divide block_out_channels entry 8"),
            ("unet_config", unet.replacingOccurrences(of: "\"inChannels\":3", with: "\"inChannels\":1000000"),
             "metadata unet_config: 1000000 input and 3 output channels, expected 3 (RGB)"),
            ("tokenizer", tokenizer.replacingOccurrences(of: "<pad>", with: "<dap>"),
             "metadata tokenizer: the vocabulary does not start with <pad>, <unk>"),
            ("tokenizer", tokenizer.replacingOccurrences(of: "\"max_tokens\":4", with: "\"max_tokens\":-1"),
             "metadata tokenizer: key 'encoder.max_tokens': -1 is out of range 1...64"),
        ]
        for (key, value, expected) in cases {
            XCTAssertNotEqual(value, metadata[key], "the case changes the metadata")
            var changed = metadata
            changed[key] = value
            try write([UInt8](model.store.safeTensorsWriter(metadata: changed).encoded()), to: path)
            let peak = FuzzRun.peakResidentBytes()
            XCTAssertThrowsError(try Checkpoint.loadModel(path)) { error in
                XCTAssertEqual("\(error)", "\(path): \(expected) (a damaged or foreign file?)")
            }
            XCTAssertLessThan(FuzzRun.peakResidentBytes() - peak, 64 << 20, key)
        }
        try model.store.safeTensorsWriter(metadata: metadata).write(to: path)
        XCTAssertEqual(try Checkpoint.loadModel(path).model.store.count, model.store.count, "the untouched file loads")
    }

    // MARK: - PNG

    /// PNG chunks after the signature: where each starts (its length field), its type, its data.
    private func chunks(_ png: [UInt8]) -> [(start: Int, type: String, data: Range<Int>)] {
        var out: [(Int, String, Range<Int>)] = []
        var at = 8
        while at + 12 <= png.count {
            let length = png[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) }
            out.append((at, String(decoding: png[(at + 4)..<(at + 8)], as: UTF8.self), (at + 8)..<(at + 8 + length)))
            at += 12 + length
        }
        return out
    }

    private static let crcTable: [UInt32] = (0..<256).map { n in
        (0..<8).reduce(UInt32(n)) { c, _ in c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }

    /// A chunk with a correct CRC (so libpng reads past it into the part under test).
    private func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        let crc = ~body.reduce(UInt32.max) { Self.crcTable[Int(($0 ^ UInt32($1)) & 0xFF)] ^ ($0 >> 8) }
        return be32(UInt32(data.count)) + body + be32(crc)
    }

    private func be32(_ v: UInt32) -> [UInt8] { (0..<4).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// `png` with chunk `index`'s data replaced by `data`, its CRC correct.
    private func replacingChunk(_ png: [UInt8], _ index: Int, data: [UInt8]) -> [UInt8] {
        let c = chunks(png)[index]
        var out = png
        out.replaceSubrange(c.start..<(c.data.upperBound + 4), with: chunk(c.type, data))
        return out
    }

    /// PNGs from PNGFile's writer (noise, which compresses badly, and a gradient, which compresses
    /// well): every cut, random bytes behind the signature, mutations, and mutations with the CRC
    /// put right so they reach libpng's header checks and zlib: IHDR sizes and depths at their
    /// edges, chunk lengths of 0xFFFFFFFF, a zlib stream that never ends, IDAT data flipped.
    func testPNGDecoderSurvivesFuzzing() throws {
        var rng = RandomStream(seed: Self.seed, stream: 4)
        let noise = try PNGFile.encode(RGBImage(width: 12, height: 10, pixels: (0..<360).map { _ in UInt8(rng.int(below: 256)) }))
        let gradient = try PNGFile.encode(RGBImage(width: 32, height: 24, pixels: (0..<(32 * 24 * 3)).map { UInt8($0 % 97) }))
        let run = FuzzRun(reader: "png", seed: Self.seed)
        var inputs = FuzzInputs(seed: Self.seed, stream: 5)
        let expected = { (error: Error) in self.expect(PNGError.self, error, startsWith: "fuzz.png: ") }
        let attempt = { (bytes: [UInt8]) in _ = try PNGFile.decode(bytes, name: "fuzz.png") }
        let signature = Array(noise.prefix(8)), iend = chunk("IEND", [])

        for valid in [noise, gradient] {
            for cut in FuzzInputs.cuts(0..<valid.count, count: 700) {
                run.run("cut \(cut)", Array(valid.prefix(cut)), expected: expected, attempt)
            }
        }
        for k in 0..<1000 {
            let body = inputs.random(maxLength: 400)
            run.run("random", k % 2 == 0 ? body : signature + body + iend, expected: expected, attempt)
        }
        for _ in 0..<2000 {
            let (kind, bytes) = inputs.mutate(inputs.pick([noise, gradient]))
            run.run(kind, bytes, expected: expected, attempt)
        }
        let lengths: [UInt32] = [0xFFFF_FFFF, 0x8000_0000, 0x7FFF_FFFF, 0x7FFF_FFF0, 0, 1, 13, 1 << 20]
        let sides: [UInt32] = [0, 1, 2, 255, 16384, 16385, 65535, 1 << 20, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF]
        for _ in 0..<3000 {
            let valid = inputs.pick([noise, gradient])
            let all = chunks(valid)
            let index = inputs.int(below: all.count)
            let c = all[index]
            var bytes = valid, kind: String
            switch inputs.int(below: 6) {
            case 0:
                let n = inputs.pick(lengths)
                kind = "\(c.type) length \(n)"
                bytes.replaceSubrange(c.start..<(c.start + 4), with: be32(n))
            case 1:
                var ihdr = Array(valid[all[0].data])
                let w = inputs.pick(sides), h = inputs.pick(sides)
                ihdr.replaceSubrange(0..<8, with: be32(w) + be32(h))
                if inputs.int(below: 2) == 0 {  // else the writer's 8-bit RGB, so only the size is wrong
                    ihdr[8] = inputs.pick([0, 1, 2, 4, 8, 16, 3, 255])
                    ihdr[9] = inputs.pick([0, 2, 3, 4, 6, 1, 7])
                }
                if inputs.int(below: 4) == 0 { ihdr[10 + inputs.int(below: 3)] = UInt8(inputs.int(below: 3)) }
                kind = "IHDR \(w)x\(h) depth \(ihdr[8]) colour \(ihdr[9])"
                bytes = replacingChunk(valid, 0, data: ihdr)
            case 2:
                let idat = all.firstIndex { $0.type == "IDAT" }!
                var payload = Array(valid[all[idat].data])
                for _ in 0..<(1 + inputs.int(below: 4)) { payload[inputs.int(below: payload.count)] ^= UInt8(1 + inputs.int(below: 255)) }
                kind = "IDAT flipped, CRC right"
                bytes = replacingChunk(valid, idat, data: payload)
            case 3:
                // zlib header, then empty stored blocks that are never the last: the stream never
                // ends, spread over many IDAT chunks.
                let blocks = [UInt8]((0..<(1 + inputs.int(below: 2000))).flatMap { _ in [0x00, 0x00, 0x00, 0xFF, 0xFF] as [UInt8] })
                let stream = [0x78, 0x01] + blocks
                let step = 1 + inputs.int(below: 64)
                let pieces = stride(from: 0, to: stream.count, by: step).map { Array(stream[$0..<min(stream.count, $0 + step)]) }
                kind = "endless zlib in \(pieces.count) IDATs"
                bytes = Array(valid[..<all[1].start]) + pieces.flatMap { chunk("IDAT", $0) } + iend
            case 4:
                let type = inputs.pick(["IHDR", "IDAT", "IEND", "PLTE", "tRNS", "zTXt", "iCCP", "tEXt", "gAMA", "sBIT", "abcd"])
                kind = "extra \(type) chunk, CRC right"
                bytes.insert(contentsOf: chunk(type, inputs.random(maxLength: 300)), at: all[inputs.int(below: all.count)].start)
            default:
                kind = "\(c.type) dropped"
                bytes.removeSubrange(c.start..<(c.data.upperBound + 4))
            }
            run.run(kind, bytes, expected: expected, attempt)
        }
        run.finish()
        XCTAssertGreaterThan(run.parsed, 10, "some mutations (ancillary chunks) keep the image readable")
    }

    /// Found by fuzzing: a 169-byte PNG whose IHDR claims 16384 x 16384 pixels made decode
    /// allocate 805 MB before libpng found the data missing; the sizes alone now refuse it, and
    /// the bound (1 bit a pixel, deflate's 1032:1) never refuses a real image.
    func testPNGClaimingMorePixelsThanItsBytesCanHoldIsRefusedBeforeAllocating() throws {
        let valid = try PNGFile.encode(RGBImage(width: 4, height: 4, fill: (1, 2, 3)))
        var ihdr = Array(valid[chunks(valid)[0].data])
        ihdr.replaceSubrange(0..<8, with: be32(16384) + be32(16384))
        let huge = replacingChunk(valid, 0, data: ihdr)
        let peak = FuzzRun.peakResidentBytes()
        XCTAssertThrowsError(try PNGFile.decode(huge, name: "big.png")) { error in
            XCTAssertEqual("\(error)", "big.png: the header's 16384x16384 pixels cannot fit in \(huge.count) bytes (corrupt PNG)")
        }
        XCTAssertLessThan(FuzzRun.peakResidentBytes() - peak, 64 << 20)
        let black = RGBImage(width: 512, height: 512, pixels: [UInt8](repeating: 0, count: 512 * 512 * 3))
        let compressed = try PNGFile.encode(black)
        XCTAssertEqual(try PNGFile.decode(compressed), black, "\(compressed.count) bytes: a well-compressed image still reads")
    }

    // MARK: - Pairs

    /// A pairs.jsonl from PreferencePairs' writer over real images: cut, mutated, with columns set to
    /// edge JSON values (deep nesting, megabyte strings, 1e400, lone surrogates) and image paths
    /// to folders, the file itself, a truncated PNG, an empty file; loaded strict and with
    /// data.skip_bad.
    func testPairsReaderSurvivesFuzzing() throws {
        let dir = try temporaryFolder()
        try FileManager.default.createDirectory(atPath: dir + "/images", withIntermediateDirectories: true)
        let fills: [(UInt8, UInt8, UInt8)] = [(10, 20, 30), (200, 20, 30), (0, 255, 0)]
        for (i, fill) in fills.enumerated() {
            try PNGFile.write(RGBImage(width: 8, height: 8, fill: fill), to: "\(dir)/images/\(i).png")
        }
        let png = try FileIO.read(dir + "/images/0.png")
        try write(Array(png.prefix(png.count / 2)), to: dir + "/images/cut.png")
        try write([], to: dir + "/images/empty.png")
        let path = dir + "/pairs.jsonl"
        let rows = (0..<4).map { i in
            PreferencePairs.Row(caption: "a red circle \(i)", image_0: "images/\(i % 3).png", image_1: "images/\((i + 1) % 3).png",
                                label_0: [1, 0, 0.5, 1][i], score_0: 0.25 * Double(i), score_1: 0.9, annotator: "pick")
        }
        try PreferencePairs.write(rows, to: path)
        let valid = try FileIO.read(path)
        let run = FuzzRun(reader: "pairs", seed: Self.seed)
        var inputs = FuzzInputs(seed: Self.seed, stream: 6)
        let expected = { (error: Error) in self.expect(DataError.self, error, startsWith: path + ":") }
        var strict = true
        let attempt = { (bytes: [UInt8]) in
            try self.write(bytes, to: path)
            strict.toggle()
            let pairs = try PreferencePairs.load(path, size: 8, skipBad: !strict)
            for line in pairs.skipped where !line.hasPrefix(path + ":") || !FuzzRun.isOneLine(line) {
                XCTFail("skipped line not one line naming the file: \(line)")
            }
        }

        for cut in FuzzInputs.cuts(0..<valid.count, count: 800) {
            run.run("cut \(cut)", Array(valid.prefix(cut)), expected: expected, attempt)
        }
        for _ in 0..<300 {
            run.run("random", inputs.random(maxLength: 400), expected: expected, attempt)
        }
        for _ in 0..<1000 {
            let (kind, bytes) = inputs.mutate(valid)
            run.run(kind, bytes, expected: expected, attempt)
        }
        let columns = ["caption", "image_0", "image_1", "label_0", "score_0", "score_1", "annotator"]
        let values = ["0", "-1", "1", "0.5", "1.0", "3e2", "255", "9223372036854775807", "9223372036854775808",
                      "18446744073709551616", "99999999999999999999999999999", "1e308", "1e309", "-1e309", "1e-400",
                      "1e400", "-1e400", "NaN", "Infinity", "null", "true", "{}", "[]", "\"\"", "\"\\ud800\"", "\"\\u0000\"", "\"\\udc00\\ud800\"",
                      String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000),
                      String(repeating: "{\"a\":", count: 10_000) + "1" + String(repeating: "}", count: 10_000),
                      String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
                      "\"" + String(repeating: "x", count: 1 << 20) + "\""]
        let paths = ["", ".", "/", "images", "images/", "images/cut.png", "images/empty.png", "pairs.jsonl", "../", "missing.png",
                     String(repeating: "a/", count: 3000) + "b.png", "images/0.png\\u0000x", "a\\nb.png", "a\\rb.png", "/dev/null", "images/../images/1.png"]
        var lines = valid.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
        for _ in 0..<900 {
            let i = inputs.int(below: lines.count)
            let original = lines[i]
            let column = inputs.pick(columns)
            let value = column.hasPrefix("image") && inputs.int(below: 2) == 0 ? "\"\(inputs.pick(paths))\"" : inputs.pick(values)
            // Replace the column's value: from after `"column":` up to the next top-level ',' or '}'.
            guard let keyRange = original.range(of: "\"\(column)\":") else { continue }
            let rest = original[keyRange.upperBound...]
            var end = rest.startIndex, inString = false, escaped = false
            while end < rest.endIndex {
                let c = rest[end]
                if inString { if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false } }
                else if c == "\"" { inString = true } else if c == "," || c == "}" { break }
                end = rest.index(after: end)
            }
            lines[i] = String(original[..<keyRange.upperBound]) + value + String(rest[end...])
            var text = lines.joined(separator: "\n") + "\n"
            lines[i] = original
            switch inputs.int(below: 8) {
            case 0: text = text.replacingOccurrences(of: "\n", with: "\r\n")
            case 1: text = "\u{FEFF}" + text
            default: break
            }
            run.run("\(column) = \(value.prefix(24))", Array(text.utf8), expected: expected, attempt)
        }
        run.finish()
        XCTAssertGreaterThan(run.parsed, 100)
    }

    /// Found by fuzzing: pairs.jsonl with Windows line ends was one line to the reader ("line 1:
    /// not a JSON object"), and an image path holding a newline made a two-line error.
    func testPairsWithWindowsLineEndsLoadAndErrorsStayOneLine() throws {
        let dir = try temporaryFolder()
        try PNGFile.write(RGBImage(width: 8, height: 8, fill: (10, 20, 30)), to: dir + "/a.png")
        try PNGFile.write(RGBImage(width: 8, height: 8, fill: (200, 20, 30)), to: dir + "/b.png")
        let path = dir + "/pairs.jsonl"
        let row = PreferencePairs.Row(caption: "x", image_0: "a.png", image_1: "b.png", label_0: 1, score_0: 0.9, score_1: 0.1,
                                      annotator: "pick")
        try PreferencePairs.write([row, row], to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try write(Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8), to: path)
        XCTAssertEqual(try PreferencePairs.load(path, size: 8, skipBad: false).pairs.count, 2)

        var bad = row
        bad.image_0 = "a\nb.png"
        try PreferencePairs.write([bad], to: path)
        XCTAssertThrowsError(try PreferencePairs.load(path, size: 8, skipBad: false)) { error in
            XCTAssertEqual("\(error)", "\(path):1: \(dir)/a\\nb.png: cannot read the file (No such file or directory)")
        }
    }
}
