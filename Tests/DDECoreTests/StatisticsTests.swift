import XCTest
import DDECore

final class StatisticsTests: XCTestCase {
    func testRanksAverageTies() {
        XCTAssertEqual(Statistics.ranks([]), [])
        XCTAssertEqual(Statistics.ranks([3, 1, 2]), [3, 1, 2])
        // scipy.stats.rankdata([10, 20, 20, 5, 20]) = [2, 4, 4, 1, 4]
        XCTAssertEqual(Statistics.ranks([10, 20, 20, 5, 20]), [2, 4, 4, 1, 4])
        XCTAssertEqual(Statistics.ranks([7, 7]), [1.5, 1.5])
    }

    func testSpearmanAndPearsonKnownValues() {
        let x: [Double] = [1, 2, 3, 4, 5]
        XCTAssertEqual(Statistics.spearman(x, x.map { $0 * $0 * $0 }), 1, accuracy: 1e-12, "monotone")
        XCTAssertEqual(Statistics.spearman(x, x.map { -exp($0) }), -1, accuracy: 1e-12, "reversed")
        // ranks of [5, 6, 7, 8, 7] are [1, 2, 3.5, 5, 3.5]: Σ dx dy = 8, Σ dx^2 = 10, Σ dy^2 = 9.5
        // (scipy.stats.spearmanr gives 0.8207826816681233)
        XCTAssertEqual(Statistics.spearman(x, [5, 6, 7, 8, 7]), 8 / 95.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(8 / 95.0.squareRoot(), 0.8207826816681233, accuracy: 1e-15)
        // [2, 1, 4, 3, 7]: Σ dx dy = 12, Σ dx^2 = 10, Σ dy^2 = 21.2
        XCTAssertEqual(Statistics.pearson(x, [2, 1, 4, 3, 7]), 12 / 212.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(Statistics.pearson(x, [1, 1, 1, 1, 1]), 0, "no spread")
        XCTAssertEqual(Statistics.mean([1, 2, 6]), 3)
    }
}
