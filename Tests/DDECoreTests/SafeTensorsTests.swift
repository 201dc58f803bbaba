import XCTest
import DDECore

final class SafeTensorsTests: XCTestCase {
    // MARK: - Format

    /// One tensor "a", F32, shape [2], values [1, -2], spelled out byte by byte.
    func testGoldenBytesPinTheFormat() throws {
        var writer = SafeTensorsWriter()
        try writer.add("a", shape: [2], [Float(1), -2])
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#  // 54 bytes
        var expected: [UInt8] = [56, 0, 0, 0, 0, 0, 0, 0]                     // u64 LE: 54 + 2 padding
        expected += Array(header.utf8) + [0x20, 0x20]                          // padded to 8
        expected += [0x00, 0x00, 0x80, 0x3F]                                   // 1.0f
        expected += [0x00, 0x00, 0x00, 0xC0]                                   // -2.0f
        XCTAssertEqual([UInt8](try writer.encoded()), expected)

        // Metadata comes first, keys sorted, strings escaped; the header is padded to 8 again.
        var withMeta = SafeTensorsWriter(metadata: ["z": "1", "a\"b": "x\ny"])
        try withMeta.add("t", shape: [], [UInt8(7)])
        let json = #"{"__metadata__":{"a\"b":"x\ny","z":"1"},"t":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}"#
        let padded = json + String(repeating: " ", count: (8 - json.utf8.count % 8) % 8)
        var expected2: [UInt8] = [UInt8(padded.utf8.count), 0, 0, 0, 0, 0, 0, 0]
        expected2 += Array(padded.utf8) + [7]
        XCTAssertEqual([UInt8](try withMeta.encoded()), expected2)
    }

    func testRoundTripIsBitExactWithShapesDtypesAndMetadata() throws {
        let specials: [Float] = [0, -0.0, 1, -2, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
                                 Float(bitPattern: 0x7FC0_1234), Float(bitPattern: 0xFF80_0001), 3.14159, -1e-30]
        var rng = RandomStream(seed: 11)
        let state = rng.stateArray
        let metadata = ["config": "{\"lr\": 1e-4}\nline2\ttab", "step": "1200", "ünïcode": "✓ 日本", "": "empty key"]
        var writer = SafeTensorsWriter(metadata: metadata)
        try writer.add("w", shape: [3, 4], specials)
        try writer.add("scalar", shape: [], [Float(42)])
        try writer.add("empty", shape: [0, 3], [Float]())
        try writer.add("d", shape: [2], [Double.pi, -0.0])
        try writer.add("rng.noise", shape: [4], state)
        try writer.add("i64", shape: [2], [Int64.min, Int64.max])
        try writer.add("i32", shape: [1, 2], [Int32(-7), 9])
        try writer.add("bytes", shape: [3], [UInt8(0), 128, 255])

        let dir = try temporaryDirectory()
        let path = "\(dir)/x.safetensors"
        try writer.write(to: path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["x.safetensors"], "no temporary file left behind")

        let file = try SafeTensorsReader(contentsOf: path)
        XCTAssertEqual(file.names, ["w", "scalar", "empty", "d", "rng.noise", "i64", "i32", "bytes"])
        XCTAssertEqual(file.metadata, metadata)
        XCTAssertEqual(file.headerByteCount % 8, 0)
        XCTAssertEqual(try file.floats("w").map(\.bitPattern), specials.map(\.bitPattern))
        XCTAssertEqual(try file.info("w").shape, [3, 4])
        XCTAssertEqual(try file.info("w").dtype, .f32)
        XCTAssertEqual(try file.floats("scalar"), [42])
        XCTAssertEqual(try file.info("scalar").shape, [])
        XCTAssertEqual(try file.floats("empty"), [])
        XCTAssertEqual(try file.info("empty").shape, [0, 3])
        XCTAssertEqual(try file.values("d", as: Double.self).map(\.bitPattern), [Double.pi, -0.0].map(\.bitPattern))
        XCTAssertEqual(try file.values("rng.noise", as: UInt64.self), state)
        XCTAssertEqual(RandomStream(state: try file.values("rng.noise")), rng)
        XCTAssertEqual(try file.values("i64", as: Int64.self), [Int64.min, Int64.max])
        XCTAssertEqual(try file.values("i32", as: Int32.self), [-7, 9])
        XCTAssertEqual(try file.values("bytes", as: UInt8.self), [0, 128, 255])
        XCTAssertEqual(try file.info("bytes").dtype, .u8)
        _ = rng.next()

        var copied = [Float](repeating: 0, count: 12)
        try copied.withUnsafeMutableBufferPointer { try file.copy("w", shape: [3, 4], into: $0.baseAddress!) }
        XCTAssertEqual(copied.map(\.bitPattern), specials.map(\.bitPattern))

        // Same inputs -> same bytes, whatever order the metadata dictionary was built in.
        var again = SafeTensorsWriter(metadata: Dictionary(uniqueKeysWithValues: metadata.reversed()))
        for t in writer.tensors {
            _ = try file.withRawBytes(of: t.name) { try again.add(t.name, dtype: t.dtype, shape: t.shape, bytes: $0) }
        }
        XCTAssertEqual(try again.encoded(), try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func testHeaderIsPaddedWithSpacesToEightBytes() throws {
        for length in 1...17 {
            var writer = SafeTensorsWriter()
            try writer.add(String(repeating: "n", count: length), shape: [1], [Float(1)])
            let bytes = [UInt8](try writer.encoded())
            let n = Int(bytes[0]) | Int(bytes[1]) << 8
            XCTAssertEqual(n % 8, 0, "name length \(length)")
            XCTAssertEqual(bytes.count, 8 + n + 4)
            let header = bytes[8..<(8 + n)]
            let close = header.lastIndex(of: UInt8(ascii: "}"))!
            XCTAssertTrue(header[(close + 1)...].allSatisfy { $0 == 0x20 }, "padding is spaces")
            XCTAssertLessThan(header.count - (close + 1 - header.startIndex), 8)
            XCTAssertEqual(try SafeTensorsReader(data: Data(bytes), name: "p").floats(String(repeating: "n", count: length)), [1])
        }
    }

    func testHalfAndBFloat16AreWidenedExactly() throws {
        // F16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), -0, inf.   BF16: 1, -2, 3.140625.
        let half: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x7C00]
        let bf16: [UInt16] = [0x3F80, 0xC000, 0x4049]
        var writer = SafeTensorsWriter()
        try half.withUnsafeBytes { try writer.add("h", dtype: .f16, shape: [6], bytes: $0) }
        try bf16.withUnsafeBytes { try writer.add("b", dtype: .bf16, shape: [3], bytes: $0) }
        let file = try SafeTensorsReader(data: try writer.encoded(), name: "h.safetensors")
        let h = try file.floats("h")
        XCTAssertEqual(Array(h.prefix(4)), [1, -2, 65504, 0x1p-24])
        XCTAssertEqual(h[4].bitPattern, (-0.0 as Float).bitPattern)
        XCTAssertEqual(h[5], .infinity)
        XCTAssertEqual(try file.floats("b"), [1, -2, 3.140625])
        XCTAssertEqual(try file.withRawBytes(of: "h") { Array($0.bindMemory(to: UInt16.self)) }, half)
        assertError(try file.values("h", as: UInt16.self), "h.safetensors: tensor 'h' is F16, expected U16")
    }

    func testWriterRejectsBadInput() throws {
        var writer = SafeTensorsWriter()
        try writer.add("a", shape: [1], [Float(1)])
        assertError(try writer.add("a", shape: [1], [Float(1)]), "safetensors writer: duplicate tensor 'a'")
        assertError(try writer.add("__metadata__", shape: [1], [Float(1)]), "safetensors writer: '__metadata__' is reserved for metadata and cannot name a tensor")
        assertError(try writer.add("b", shape: [2, 2], [Float(1)]), "safetensors writer: tensor 'b' has shape [2,2] but 1 values")
        assertError(try writer.add("c", shape: [-1], [Float]()), "safetensors writer: tensor 'c' has an invalid shape [-1]")
        assertError(try writer.add("d", shape: [Int.max, 2], [Float]()), "safetensors writer: tensor 'd' has an invalid shape [\(Int.max),2]")
        XCTAssertEqual(writer.tensors.map(\.name), ["a"], "a failed add leaves the writer as it was")
    }

    // MARK: - Validation

    func testEveryCorruptionHasItsOneLineError() throws {
        // Length field.
        for n in 0..<8 {
            assertError(try read([UInt8](repeating: 0, count: n)),
                        "x.safetensors: file is \(n) bytes, too short for the 8-byte header length (not a safetensors file?)")
        }
        assertError(try read(le(100_000_001) + Array("{}".utf8)),
                    "x.safetensors: header length 100000001 is absurd (the format allows at most 100000000 bytes; not a safetensors file?)")
        assertError(try read(le(UInt64.max) + Array("{}".utf8)), contains: "header length 18446744073709551615 is absurd")
        assertError(try read(le(40) + Array("{}".utf8)),
                    "x.safetensors: header length 40 exceeds the 2 bytes after the length field (truncated file, or not a safetensors file?)")
        // Header text.
        assertError(try read(le(3) + [0x7B, 0xFF, 0x7D]), "x.safetensors: header is not valid UTF-8 (not a safetensors file?)")
        assertError(try read(header: #"{"a": }"#), "x.safetensors: header is not valid JSON: expected a value at byte 6 of the header")
        assertError(try read(header: #"{"a":1,"a":2}"#), "x.safetensors: header is not valid JSON: duplicate key \"a\" at byte 7 of the header")
        assertError(try read(header: ""), contains: "header is not valid JSON: expected a value, found the end of the text")
        assertError(try read(header: "[1,2]"), "x.safetensors: header is an array, expected a JSON object of tensors")
        assertError(try read(header: "{} x"), contains: "unexpected data after the JSON value at byte 3")
        assertError(try read(header: String(repeating: "[", count: 100_000)), contains: "nested deeper than 64 levels")
        // Tensor entries.
        assertError(try read(header: #"{"a":[]}"#), "x.safetensors: tensor 'a' is an array, expected an object with dtype, shape and data_offsets")
        assertError(try read(header: #"{"a":{"shape":[1],"data_offsets":[0,4]}}"#, data: 4), "x.safetensors: tensor 'a' has no dtype")
        assertError(try read(header: #"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#, data: 4), "x.safetensors: tensor 'a' has no shape")
        assertError(try read(header: #"{"a":{"dtype":"F32","shape":[1]}}"#, data: 4), "x.safetensors: tensor 'a' has no data_offsets")
        assertError(try read(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}"#, data: 4),
                    "x.safetensors: tensor 'a' has unknown field 'x' (expected dtype, shape and data_offsets)")
        assertError(try read(header: #"{"a":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}}"#, data: 4),
                    contains: "x.safetensors: tensor 'a' has unknown dtype 'F31' (known: BOOL, U8,")
        assertError(try read(header: #"{"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}}"#, data: 4),
                    "x.safetensors: tensor 'a' has dtype a number, expected a string")
        for shape in ["[-1]", "[1.0]", "[1e0]", "[\"1\"]", "1", "[99999999999999999999]"] {
            assertError(try read(header: #"{"a":{"dtype":"F32","shape":"# + shape + #","data_offsets":[0,4]}}"#, data: 4),
                        "x.safetensors: tensor 'a' has an invalid shape (expected an array of non-negative integers)")
        }
        for offsets in ["[0]", "[0,4,8]", "[4,0]", "[-4,0]", "[0,4.5]", "{}"] {
            assertError(try read(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":"# + offsets + "}}", data: 4),
                        "x.safetensors: tensor 'a' has invalid data_offsets (expected [begin, end] with 0 <= begin <= end)")
        }
        assertError(try read(header: #"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, data: 4),
                    "x.safetensors: tensor 'a' has shape [4611686018427387904,4] whose size overflows")
        assertError(try read(header: #"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#, data: 20),
                    "x.safetensors: tensor 'a' has shape [2,3] F32 = 24 bytes but data_offsets [0,20] span 20 bytes")
        // Placement in the data section.
        let truncated = #"{"a":{"dtype":"F32","shape":[256],"data_offsets":[0,1024]},"conv_in.weight":{"dtype":"F32","shape":[16,16],"data_offsets":[1024,2048]}}"#
        assertError(try read(header: truncated, data: 1500),
                    "x.safetensors: tensor 'conv_in.weight' needs bytes 1024..2048 but the data section has 1500 bytes (truncated file?)")
        assertError(try read(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: 12),
                    "x.safetensors: tensors 'a' (bytes 0..8) and 'b' (bytes 4..12) overlap")
        assertError(try read(header: #"{"b":{"dtype":"U8","shape":[2],"data_offsets":[8,10]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: 10),
                    "x.safetensors: gap of 4 bytes between tensor 'a' (ends at byte 4) and tensor 'b' (begins at byte 8)")
        assertError(try read(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8),
                    "x.safetensors: first tensor 'a' begins at byte 4, leaving a gap at the start of the data section")
        assertError(try read(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: 6),
                    "x.safetensors: the data section has 6 bytes but the tensors end at byte 4 (2 trailing bytes: corrupt file?)")
        assertError(try read(header: "{}", data: 1), contains: "the data section has 1 bytes but the tensors end at byte 0")
        // Metadata.
        assertError(try read(header: #"{"__metadata__":{"step":1200}}"#),
                    "x.safetensors: __metadata__ value for 'step' is a number, expected a string")
        assertError(try read(header: #"{"__metadata__":["a"]}"#), "x.safetensors: __metadata__ is an array, expected an object of strings")
        // Names with control characters stay on one line.
        assertError(try read(header: #"{"a\nb":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: 2),
                    #"x.safetensors: tensor "a\nb" needs bytes 0..4 but the data section has 2 bytes (truncated file?)"#)

        // Valid edge cases: no tensors, escapes, surrounding whitespace, zero-size tensors anywhere.
        XCTAssertEqual(try read(header: " {} ").tensors, [])
        let ok = try read(header: #"{"\u00e9\ud83d\ude00":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"c":{"dtype":"I8","shape":[0],"data_offsets":[1,1]}}"#, data: 1)
        XCTAssertEqual(ok.names, ["é😀", "b", "c"])
    }

    func testReaderAccessErrors() throws {
        var writer = SafeTensorsWriter()
        try writer.add("a", shape: [3, 4], [Float](repeating: 1, count: 12))
        try writer.add("n", shape: [2], [Int64(1), 2])
        let file = try SafeTensorsReader(data: try writer.encoded(), name: "x.safetensors")
        var out = [Float](repeating: 0, count: 12)
        try out.withUnsafeMutableBufferPointer { p in
            assertError(try file.copy("a", shape: [4, 3], into: p.baseAddress!), "x.safetensors: tensor 'a' has shape [3,4], expected [4,3]")
            assertError(try file.copy("n", shape: [2], into: p.baseAddress!), "x.safetensors: tensor 'n' is I64, expected a float tensor (F32, F16 or BF16)")
        }
        assertError(try file.floats("zz"), "x.safetensors: no tensor 'zz'")
        assertError(try file.floats("n"), "x.safetensors: tensor 'n' is I64, expected a float tensor (F32, F16 or BF16)")
        assertError(try file.values("a", as: UInt64.self), "x.safetensors: tensor 'a' is F32, expected U64")
        assertError(try SafeTensorsReader(contentsOf: "/nonexistent/x.safetensors"), "/nonexistent/x.safetensors: cannot open: No such file or directory")
    }

    /// Truncations at every length, flipped header bytes and thousands of random inputs: every
    /// one is a clean error (or, for a flip that keeps the file valid, a clean read). No time
    /// limit is asserted (a shared machine's timings are noise); a hang never ends the suite.
    func testGarbageNeverCrashesOrHangs() throws {
        var writer = SafeTensorsWriter(metadata: ["step": "12", "config": "{\"a\": [1, 2]}"])
        try writer.add("conv_in.weight", shape: [2, 3], [Float](repeating: 0.5, count: 6))
        try writer.add("conv_in.bias", shape: [2], [Float(1), 2])
        try writer.add("rng", shape: [4], [UInt64](repeating: 9, count: 4))
        let good = [UInt8](try writer.encoded())
        var errors = 0, reads = 0
        func attempt(_ bytes: [UInt8]) {
            do {
                let f = try SafeTensorsReader(data: Data(bytes), name: "g.safetensors")
                for t in f.tensors { _ = try? f.floats(t.name); _ = try? f.values(t.name, as: UInt64.self) }
                reads += 1
            } catch {
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix("g.safetensors: "), message)
                XCTAssertFalse(message.contains("\n"), message)
                errors += 1
            }
        }
        for cut in 0..<good.count {
            XCTAssertThrowsError(try SafeTensorsReader(data: Data(good.prefix(cut)), name: "g.safetensors"), "cut at \(cut)")
            attempt(Array(good.prefix(cut)))
        }
        for i in 0..<good.count {
            for mask: UInt8 in [0x01, 0x20, 0x80, 0xFF] {
                var flipped = good
                flipped[i] ^= mask
                attempt(flipped)
            }
        }
        var rng = RandomStream(seed: 99)
        let alphabet = Array(#"{}[]:,"0123456789-.eE \__metadata__dtypeF32U64shapedata_offsetstruefalsenull\u"#.utf8)
        for k in 0..<4000 {
            let length = rng.int(below: 300)
            var bytes: [UInt8]
            switch k % 4 {
            case 0: bytes = (0..<length).map { _ in UInt8(rng.int(below: 256)) }
            case 1: // a plausible length field, then JSON-like soup
                bytes = le(UInt64(length)) + (0..<length).map { _ in alphabet[rng.int(below: alphabet.count)] }
                bytes += (0..<rng.int(below: 64)).map { _ in UInt8(rng.int(below: 256)) }
            case 2: // a valid file with a few random bytes changed
                bytes = good
                for _ in 0..<(1 + rng.int(below: 4)) { bytes[rng.int(below: bytes.count)] = UInt8(rng.int(below: 256)) }
            default: // a valid file with the header length field changed
                bytes = good
                let n = UInt64(bytes[0]) + UInt64(rng.int(below: 33)) &- 16
                bytes.replaceSubrange(0..<8, with: le(n))
            }
            attempt(bytes)
        }
        XCTAssertGreaterThan(errors, 4000)
        XCTAssertGreaterThan(reads, 0, "some byte flips (e.g. inside float data) keep the file valid")
    }

    // MARK: - ParameterStore

    func testParameterStoreCheckpointRoundTrip() throws {
        let (store, _) = makeStore()
        let m = FloatBuffer(count: store.count), v = FloatBuffer(count: store.count)
        for i in 0..<store.count { m.pointer[i] = Float(i) * 0.25; v.pointer[i] = -Float(i) }
        let dir = try temporaryDirectory()
        let path = "\(dir)/ckpt.safetensors"
        try store.write(to: path, metadata: ["step": "7"], buffers: ["adam.m": m, "adam.v": v])

        // The data section starts with the parameter buffer, byte for byte.
        let file = try SafeTensorsReader(contentsOf: path)
        XCTAssertEqual(file.names, ["conv_in.weight", "conv_in.bias", "mid_block.resnets.1.conv2.bias", "adam.m", "adam.v"])
        XCTAssertEqual(try file.info("adam.m").shape, [store.count])
        XCTAssertEqual(try file.info("conv_in.weight").dataOffsets, 0..<(4 * 24))

        let (fresh, _) = makeStore(fill: false)
        assertError(try fresh.load(from: path),
                    "\(path): unexpected tensor 'adam.m', not a parameter of this model (a checkpoint of another architecture or config?)")
        XCTAssertEqual(fresh.params.array(fresh.count), [Float](repeating: 0, count: fresh.count), "a failed load changes nothing")
        let loaded = try fresh.load(from: path, allowExtra: { $0.hasPrefix("adam.") })
        XCTAssertEqual(fresh.params.array(fresh.count).map(\.bitPattern), store.params.array(store.count).map(\.bitPattern))
        XCTAssertEqual(loaded.metadata.filter { $0.key != SafeTensors.checksumKey }, ["step": "7"])
        XCTAssertTrue(loaded.checksumVerified, "a store writes its checksum")
        let m2 = FloatBuffer(count: store.count)
        try fresh.readBuffer("adam.m", from: loaded, into: m2)
        XCTAssertEqual(m2.array(store.count), m.array(store.count))
        assertError(try fresh.readBuffer("adam.m", from: loaded, into: FloatBuffer(count: 3)),
                    "\(path): buffer for 'adam.m' holds 3 floats, fewer than the store's \(store.count)")
    }

    func testParameterStoreLoadNamesMissingAndMismatchedTensors() throws {
        let (store, _) = makeStore()
        let dir = try temporaryDirectory()

        // A checkpoint without the last slot.
        var partial = SafeTensorsWriter()
        for slot in store.slots.dropLast() { try partial.add(slot.name, shape: slot.shape, from: store.parameters(slot)) }
        try partial.write(to: "\(dir)/x.safetensors")
        assertError(try store.load(from: "\(dir)/x.safetensors"),
                    "\(dir)/x.safetensors: missing tensor 'mid_block.resnets.1.conv2.bias' (a checkpoint of another architecture or config?)")
        try SafeTensorsWriter().write(to: "\(dir)/empty.safetensors")
        assertError(try store.load(from: "\(dir)/empty.safetensors"),
                    "\(dir)/empty.safetensors: missing tensor 'conv_in.weight' and 2 more (a checkpoint of another architecture or config?)")

        // A checkpoint with a transposed shape.
        var other = SafeTensorsWriter()
        for slot in store.slots {
            let shape = slot.name == "conv_in.weight" ? [3, 8] : slot.shape
            try other.add(slot.name, shape: shape, from: store.parameters(slot))
        }
        try other.write(to: "\(dir)/y.safetensors")
        assertError(try store.load(from: "\(dir)/y.safetensors"),
                    "\(dir)/y.safetensors: tensor 'conv_in.weight' has shape [3,8], expected [8,3] (a checkpoint of another architecture or config?)")
    }

    /// A 2.5M-parameter store (10 MB) is written and read back exactly; the times are printed,
    /// never asserted (speed is measured in benchmarks, not in tests on a shared machine).
    func testLargeStoreRoundTrips() throws {
        let store = ParameterStore()
        for i in 0..<100 { _ = store.add("block.\(i).weight", [25_000]) }
        store.seal()
        for i in 0..<store.count { store.params.pointer[i] = Float(i) }
        let dir = try temporaryDirectory()
        let path = "\(dir)/big.safetensors"
        var encode = [Double](), write = [Double](), load = [Double]()
        for _ in 0..<3 {
            var t = Date()
            let data = try store.safeTensorsWriter().encoded()
            encode.append(Date().timeIntervalSince(t))
            XCTAssertEqual(data.count % 4, 0)
            t = Date()
            try store.write(to: path)
            write.append(Date().timeIntervalSince(t))
            t = Date()
            try store.load(from: path)
            load.append(Date().timeIntervalSince(t))
        }
        print(String(format: "safetensors 2.5M params: encode %.1f ms, write (incl. fsync) %.1f ms, read+load %.1f ms",
                     encode.min()! * 1e3, write.min()! * 1e3, load.min()! * 1e3))
        XCTAssertEqual(store.params.pointer[2_499_999], 2_499_999)
    }

    // MARK: - Helpers

    private func makeStore(fill: Bool = true) -> (ParameterStore, [ParameterSlot]) {
        let store = ParameterStore()
        let slots = [store.add("conv_in.weight", [8, 3]), store.add("conv_in.bias", [8]), store.add("mid_block.resnets.1.conv2.bias", [5])]
        store.seal()
        if fill { for i in 0..<store.count { store.params.pointer[i] = Float(i) * 0.5 - 3 } }
        return (store, slots)
    }

    private func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    private func le(_ n: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) } }

    private func read(_ bytes: [UInt8]) throws -> SafeTensorsReader {
        try SafeTensorsReader(data: Data(bytes), name: "x.safetensors")
    }

    /// A file with `header` (unpadded) and `data` zero bytes of tensor data.
    private func read(header: String, data: Int = 0) throws -> SafeTensorsReader {
        try read(le(UInt64(header.utf8.count)) + Array(header.utf8) + [UInt8](repeating: 0, count: data))
    }

    private func assertError<T>(_ body: @autoclosure () throws -> T, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { XCTAssertEqual("\($0)", message, file: file, line: line) }
    }

    private func assertError<T>(_ body: @autoclosure () throws -> T, contains part: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) {
            XCTAssertTrue("\($0)".contains(part), "\($0)", file: file, line: line)
            XCTAssertFalse("\($0)".contains("\n"), file: file, line: line)
        }
    }
}
