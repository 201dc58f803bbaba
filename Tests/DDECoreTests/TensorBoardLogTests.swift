import XCTest
import DDECore

/// TensorBoard's event files written by hand: the checksum, the record framing, the protocol
/// buffers, and the cut back on resume. (That TensorBoard's own reader reads a run's events back
/// is checked by scripts/test on the smoke run.)
final class TensorBoardLogTests: XCTestCase {
    func testCRC32CMatchesTheCastagnoliCheckValue() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283, "the CRC-32C check value (RFC 3720, B.4)")
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA, "RFC 3720 B.4: 32 bytes of zeros")
        let c = CRC32C.checksum(Array("abc".utf8))
        XCTAssertEqual(CRC32C.masked(Array("abc".utf8)), ((c >> 15) | (c << 17)) &+ 0xA282_EAD8)
    }

    /// The bytes TensorFlow's writer gives for a scalar event, spelled out field by field.
    func testAScalarEventIsTheProtocolBufferTensorFlowWrites() {
        let event = TensorBoardEvent.scalars([("loss", 0.5)], step: 3, wallTime: 2.0)
        // Event: 1 wall_time (double 2.0), 2 step (varint 3), 5 summary { 1 value { 1 tag "loss", 2 simple_value 0.5f } }
        let value: [UInt8] = [0x0A, 4] + Array("loss".utf8) + [0x15, 0x00, 0x00, 0x00, 0x3F]
        let summary: [UInt8] = [0x0A, UInt8(value.count)] + value
        let expected: [UInt8] = [0x09, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x10, 3, 0x2A, UInt8(summary.count)] + summary
        XCTAssertEqual(event, expected)
        XCTAssertEqual(TensorBoardEvent.step(ofEvent: event), 3)
        XCTAssertEqual(TensorBoardEvent.step(ofEvent: TensorBoardEvent.fileVersion(wallTime: 1)), 0, "no step field: 0")
        XCTAssertNil(TensorBoardEvent.step(ofEvent: [0x2A, 200]), "a length past the end is not a message")
    }

    func testRecordsReadBackAndStopAtTheFirstDamagedOne() {
        let a: [UInt8] = Array("first".utf8), b: [UInt8] = Array(repeating: 7, count: 300)
        let file = TensorBoardEvent.record(a) + TensorBoardEvent.record(b)
        XCTAssertEqual(file.count, 16 + a.count + 16 + b.count)
        XCTAssertEqual(Array(file[0..<8]), [5, 0, 0, 0, 0, 0, 0, 0], "the length, little-endian UInt64")
        XCTAssertEqual(TensorBoardEvent.records(file).map(\.data), [a, b])
        XCTAssertEqual(TensorBoardEvent.records(Array(file.dropLast())).map(\.data), [a], "cut short: the record is dropped")
        var flipped = file
        flipped[16 + a.count + 12 + 100] ^= 1
        XCTAssertEqual(TensorBoardEvent.records(flipped).map(\.data), [a], "a changed byte fails the data's checksum")
        flipped = file
        flipped[2] = 1
        XCTAssertEqual(TensorBoardEvent.records(flipped).count, 0, "a changed length fails the length's checksum")
    }

    /// A resumed stage's events are cut back to the checkpoint's step, as the CSV logs are; a
    /// record a kill cut short goes with them.
    func testResumeKeepsTheEventsUpToItsStep() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dde-tb-\(UInt64.random(in: 0...UInt64.max))").path
        try FileIO.createFolder(folder)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        func steps() throws -> [Int] {
            try TensorBoardEvent.records(FileIO.read(folder + "/" + TensorBoardLog.fileName)).map { TensorBoardEvent.step(ofEvent: $0.data)! }
        }
        let events = try TensorBoardLog(folder: folder, resumeAfterStep: nil)
        let log = try MetricsLog(folder: folder, name: "metrics", resumeAfterStep: nil, events: events)
        for step in 1...5 { try log.append([("step", Double(step)), ("loss", 1 / Double(step))]) }
        try events.image(RGBImage(width: 2, height: 1, pixels: [255, 0, 0, 0, 0, 255]), tag: "samples", step: 5)
        XCTAssertEqual(try steps(), [0, 1, 2, 3, 4, 5, 5], "the file version, five rows, the image")
        try FileIO.append([9, 0, 0], to: folder + "/" + TensorBoardLog.fileName)  // what a kill mid-write leaves
        _ = try TensorBoardLog(folder: folder, resumeAfterStep: 3)
        XCTAssertEqual(try steps(), [0, 1, 2, 3])
        _ = try TensorBoardLog(folder: folder, resumeAfterStep: nil)
        XCTAssertEqual(try steps(), [0], "a fresh start begins a new file")
    }

    func testRowsBecomeTaggedScalars() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dde-tb-\(UInt64.random(in: 0...UInt64.max))").path
        try FileIO.createFolder(folder)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        let perStep = try MetricsLog(folder: folder, name: "heldout", resumeAfterStep: nil)
        XCTAssertEqual(perStep.scalars([("step", 4), ("loss", 0.25), ("z", -1)]).map(\.tag), ["heldout/loss", "heldout/z"])
        let perRow = try MetricsLog(folder: folder, name: "heldout-by-t", resumeAfterStep: nil,
                                    mirror: .perRow(label: "t", columns: ["t_low", "t_high"]))
        let s = perRow.scalars([("step", 4), ("t_low", 1), ("t_high", 100), ("accuracy", 0.5)])
        XCTAssertEqual(s.map(\.tag), ["heldout-by-t/accuracy/t=1-100"])
        XCTAssertEqual(s.map(\.value), [0.5])
        let none = try MetricsLog(folder: folder, name: "credit", resumeAfterStep: nil, mirror: .none)
        XCTAssertTrue(none.scalars([("step", 1), ("density", 2)]).isEmpty)
    }
}
