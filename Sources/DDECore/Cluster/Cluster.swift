// Cluster: data parallelism over MPI. `Cluster.current` is this process's rank of `size` (rank 0
// of 1 alone, where every collective is a no-op), with `shard`, `sum`, `any`, `gather`, `barrier`
// and `writing`; `OpenMPI` binds the few MPI calls from a library loaded at run time, so building
// needs no MPI. Every rank runs the same code and draws the same numbers; only rank 0 writes files.
// Uses only `Stopwatch` from the numeric core.

import Foundation

/// This process's place in a data-parallel job: rank `rank` of `size`. Alone (the default) it
/// is rank 0 of 1 and every collective is a no-op; under `mpirun -np N` (Open MPI, loaded at
/// run time by `OpenMPI`) the collectives go through MPI.
///
/// The job's contract, which the trainers keep:
/// - every rank runs the same code on the same data and draws the same random numbers, so
///   every decision (a stage is cached, a step fails its checks, a stop was requested) is the
///   same on every rank, and every rank makes the same sequence of collective calls;
/// - the work that is split (a batch's images, sampled images, images to score) goes by
///   `shard`: contiguous, in rank order, so gathering the shards restores the single-process
///   order;
/// - only rank 0 writes files (`writesFiles`, enforced in `FileIO`), each write between two
///   barriers (`writing`), so no rank reads a file before it is whole, and the file system
///   every rank sees between two writes is the same.
public final class Cluster: @unchecked Sendable {
    /// The process's cluster: set once at start-up by `join`.
    nonisolated(unsafe) public private(set) static var current = Cluster(rank: 0, size: 1, mpi: nil)

    public let rank: Int
    public let size: Int
    private let mpi: OpenMPI?
    /// Seconds spent in collectives (waiting for the slowest rank included) and the payload
    /// bytes reduced or gathered, since the last `resetCounters`.
    public private(set) var communicationSeconds = 0.0
    public private(set) var communicatedBytes = 0

    private init(rank: Int, size: Int, mpi: OpenMPI?) {
        self.rank = rank
        self.size = size
        self.mpi = mpi
    }

    public var isParallel: Bool { size > 1 }
    /// Only rank 0 writes files and prints progress.
    public var writesFiles: Bool { rank == 0 }

    /// Launched by Open MPI's mpirun (it sets `OMPI_COMM_WORLD_SIZE`)?
    public static func launchedByMPI(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        environment["OMPI_COMM_WORLD_SIZE"] != nil
    }

    /// Joins the MPI job when launched by mpirun, else stays alone. Throws a one-line error when
    /// mpirun launched this process but Open MPI's library cannot be loaded.
    public static func join() throws {
        guard launchedByMPI(), !current.isParallel else { return }
        let mpi = try OpenMPI()
        let (rank, size) = try mpi.start()
        current = Cluster(rank: rank, size: size, mpi: mpi)
    }

    /// MPI_Finalize, when every rank has finished the same work (not after a lone failure:
    /// the others would wait for it).
    public static func leave() {
        current.mpi?.finalize()
    }

    // MARK: splitting work

    /// Items `rank * count / size ..< (rank + 1) * count / size`: contiguous, in rank order.
    public static func shard(_ count: Int, rank: Int, size: Int) -> Range<Int> {
        (rank * count / size)..<((rank + 1) * count / size)
    }

    /// This rank's share of `count` items.
    public func shard(_ count: Int) -> Range<Int> { Cluster.shard(count, rank: rank, size: size) }

    /// Throws unless a batch of `count` items (`key`'s value) gives every rank at least one.
    public func requireShards(_ count: Int, key: String, item: String) throws {
        if count < size {
            throw TrainingError("\(key) = \(count) is smaller than the \(size) MPI ranks: every rank needs \(item); raise \(key) or use fewer ranks")
        }
    }

    // MARK: collectives (no-ops when alone)

    /// Element-wise sum over the ranks, in place, on every rank.
    public func sum(_ values: UnsafeMutablePointer<Float>, count: Int) {
        guard let mpi, count > 0 else { return }
        timed(bytes: 4 * count) { mpi.allreduce(values, count: count, type: mpi.float, op: mpi.sum) }
    }

    /// Element-wise sum over the ranks, on every rank.
    public func sum(_ values: [Double]) -> [Double] {
        guard let mpi, !values.isEmpty else { return values }
        var result = values
        timed(bytes: 8 * values.count) {
            result.withUnsafeMutableBufferPointer { mpi.allreduce($0.baseAddress!, count: $0.count, type: mpi.double, op: mpi.sum) }
        }
        return result
    }

    /// True on every rank when it is true on any (a stop requested on one rank stops all at the
    /// same step).
    public func any(_ flag: Bool) -> Bool {
        guard let mpi else { return flag }
        var value: Int32 = flag ? 1 : 0
        timed(bytes: 4) { mpi.allreduce(&value, count: 1, type: mpi.int32, op: mpi.max) }
        return value != 0
    }

    /// Every rank computes `body(shard(count))`, `itemSize` values per item; returns all
    /// `count * itemSize` values in item order, on every rank.
    public func gather(count: Int, itemSize: Int = 1, _ body: (Range<Int>) -> [Float]) -> [Float] {
        let mine = body(shard(count))
        precondition(mine.count == shard(count).count * itemSize, "Cluster.gather: a shard gave \(mine.count) values")
        guard let mpi else { return mine }
        return allgather(mine, count: count, itemSize: itemSize, type: mpi.float, mpi)
    }

    /// `gather` for Double values.
    public func gather(count: Int, itemSize: Int = 1, _ body: (Range<Int>) -> [Double]) -> [Double] {
        let mine = body(shard(count))
        precondition(mine.count == shard(count).count * itemSize, "Cluster.gather: a shard gave \(mine.count) values")
        guard let mpi else { return mine }
        return allgather(mine, count: count, itemSize: itemSize, type: mpi.double, mpi)
    }

    /// `gather` of finite values from a body that may throw (an external annotator's command): a
    /// rank whose body throws sends NaN for its shard instead, so no rank waits forever, and
    /// then every rank throws: its own error, or that another rank's failed.
    public func gather(count: Int, itemSize: Int = 1, throwing body: (Range<Int>) throws -> [Double]) throws -> [Double] {
        var failure: Error?
        let all = gather(count: count, itemSize: itemSize) { range -> [Double] in
            do { return try body(range) } catch {
                failure = error
                return [Double](repeating: .nan, count: range.count * itemSize)
            }
        }
        if let failure { throw failure }
        if all.contains(where: \.isNaN) { throw TrainingError("another rank of the MPI job failed here; its output says why") }
        return all
    }

    private func allgather<T: Numeric>(_ mine: [T], count: Int, itemSize: Int, type: OpenMPI.Handle, _ mpi: OpenMPI) -> [T] {
        let shards = (0..<size).map { Cluster.shard(count, rank: $0, size: size) }
        precondition(count * itemSize <= Int(Int32.max), "Cluster.gather of \(count * itemSize) values: more than Int32.max")
        let counts = shards.map { Int32($0.count * itemSize) }, displacements = shards.map { Int32($0.lowerBound * itemSize) }
        var all = [T](repeating: 0, count: count * itemSize)
        timed(bytes: MemoryLayout<T>.stride * all.count) {
            mine.withUnsafeBytes { send in
                all.withUnsafeMutableBytes { receive in
                    mpi.allgatherv(send.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, count: mine.count, receive.baseAddress!,
                                   counts: counts, displacements: displacements, type: type)
                }
            }
        }
        return all
    }

    /// Waits for every rank.
    public func barrier() {
        guard let mpi else { return }
        timed(bytes: 0) { mpi.barrier() }
    }

    /// Rank 0 runs `write` (`FileIO`'s writes) between two barriers: every rank has arrived
    /// before the file system changes, and none goes on before the change is whole. So the file
    /// system only changes while every rank is in the same call, and whatever a rank reads, lists
    /// or decides between two writes is what every other rank sees (a checkpoint folder listed to
    /// prune it, say). The second barrier is passed even when rank 0's write throws, so the
    /// ranks stay in step whether rank 0 then stops (the job ends when it exits) or goes on (a
    /// `try?`).
    public func writing<R>(_ write: () throws -> R, otherwise: R) rethrows -> R {
        barrier()
        defer { barrier() }
        return writesFiles ? try write() : otherwise
    }

    public func resetCounters() {
        communicationSeconds = 0
        communicatedBytes = 0
    }

    private func timed(bytes: Int, _ body: () -> Void) {
        let t0 = Stopwatch.now()
        body()
        communicationSeconds += Stopwatch.now() - t0
        communicatedBytes += bytes
    }
}
