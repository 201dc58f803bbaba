import XCTest
import DDECore

final class LearningRateScheduleTests: XCTestCase {
    /// diffusers' `get_constant_schedule_with_warmup`: step / max(1, warmup) before warmup,
    /// then 1. The first update (step 0) has rate 0; not `(step + 1) / warmup`.
    func testConstantWithWarmupMatchesDiffusers() {
        let s = LearningRateSchedule.constantWithWarmup(warmupSteps: 10)
        XCTAssertEqual(s.factor(step: 0), 0)
        XCTAssertEqual(s.factor(step: 1), 0.1)
        XCTAssertEqual(s.factor(step: 5), 0.5)
        XCTAssertEqual(s.factor(step: 9), 0.9)
        XCTAssertEqual(s.factor(step: 10), 1)
        XCTAssertEqual(s.factor(step: 11), 1)
        XCTAssertEqual(s.factor(step: 1_000_000), 1)
        XCTAssertEqual(s.learningRate(base: 1e-4, step: 5), 5e-5, accuracy: 1e-20)
        XCTAssertEqual(s.learningRate(base: 1e-4, step: 10), 1e-4)

        // No warm-up: 1 from the start. warm-up 1: only step 0 is 0.
        XCTAssertEqual(LearningRateSchedule.constantWithWarmup(warmupSteps: 0).factor(step: 0), 1)
        XCTAssertEqual(LearningRateSchedule.constantWithWarmup(warmupSteps: 1).factor(step: 0), 0)
        XCTAssertEqual(LearningRateSchedule.constantWithWarmup(warmupSteps: 1).factor(step: 1), 1)
        XCTAssertEqual(LearningRateSchedule.constant.factor(step: 0), 1)
        XCTAssertEqual(LearningRateSchedule.constant.learningRate(base: 3e-4, step: 12_345), 3e-4)
    }

    /// diffusers' `get_cosine_schedule_with_warmup` with the default half cycle.
    func testCosineWithWarmupBoundaries() {
        let s = LearningRateSchedule.cosineWithWarmup(warmupSteps: 100, totalSteps: 1_100)
        XCTAssertEqual(s.factor(step: 0), 0)
        XCTAssertEqual(s.factor(step: 50), 0.5)
        XCTAssertEqual(s.factor(step: 99), 0.99)
        XCTAssertEqual(s.factor(step: 100), 1)                                  // progress 0
        XCTAssertEqual(s.factor(step: 350), 0.5 * (1 + 0.5.squareRoot()), accuracy: 1e-15) // progress 1/4: cos(pi/4)
        XCTAssertEqual(s.factor(step: 600), 0.5, accuracy: 1e-15)               // progress 1/2
        XCTAssertEqual(s.factor(step: 1_100), 0, accuracy: 1e-15)              // progress 1
        // Monotone decreasing after the warm-up.
        var last = 1.0
        for step in stride(from: 100, through: 1_100, by: 10) {
            let f = s.factor(step: step)
            XCTAssertLessThanOrEqual(f, last, "step \(step)")
            last = f
        }
        // No warm-up: the cosine starts at step 0. One full cycle ends back at 1.
        XCTAssertEqual(LearningRateSchedule.cosineWithWarmup(warmupSteps: 0, totalSteps: 10).factor(step: 0), 1)
        XCTAssertEqual(LearningRateSchedule.cosineWithWarmup(warmupSteps: 0, totalSteps: 10).factor(step: 5), 0.5, accuracy: 1e-15)
        let full = LearningRateSchedule.cosineWithWarmup(warmupSteps: 0, totalSteps: 10, cycles: 1)
        XCTAssertEqual(full.factor(step: 5), 0, accuracy: 1e-15)
        XCTAssertEqual(full.factor(step: 10), 1, accuracy: 1e-15)
    }

    /// A pure function: the same step always gives the same rate, in any order.
    func testPureFunctionOfTheStep() {
        let s = LearningRateSchedule.cosineWithWarmup(warmupSteps: 7, totalSteps: 50)
        let forward = (0..<60).map { s.factor(step: $0) }
        let backward = (0..<60).reversed().map { s.factor(step: $0) }
        XCTAssertEqual(forward, backward.reversed())
    }
}
