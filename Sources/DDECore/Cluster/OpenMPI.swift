#if canImport(Glibc)
import Glibc
#endif

/// Open MPI, loaded at run time (`dlopen`), so that building dde-train never needs MPI: the
/// same binary runs alone, or as one rank of `mpirun -np N dde-train ...` when Open MPI
/// (Debian's `openmpi-bin`, which brings `libmpi.so.40`) is installed.
///
/// Only the handful of calls data-parallel training needs, bound through Open MPI's ABI: its
/// handles (`MPI_Comm`, `MPI_Datatype`, `MPI_Op`) are pointers to the library's predefined
/// objects (`ompi_mpi_comm_world`, `ompi_mpi_float`, ...), and `MPI_IN_PLACE` is `(void *) 1`.
/// Errors keep MPI's default handler (`MPI_ERRORS_ARE_FATAL`): a failed call aborts the job.
final class OpenMPI: @unchecked Sendable {
    typealias Handle = UnsafeMutableRawPointer
    private typealias InitFn = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32
    private typealias FinalizeFn = @convention(c) () -> Int32
    private typealias CommIntFn = @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    private typealias AllreduceFn = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle) -> Int32
    private typealias AllgathervFn = @convention(c) (UnsafeRawPointer?, Int32, Handle, UnsafeMutableRawPointer?,
                                                     UnsafePointer<Int32>, UnsafePointer<Int32>, Handle, Handle) -> Int32
    private typealias BarrierFn = @convention(c) (Handle) -> Int32

    /// The library names tried, in order.
    static let libraryNames = ["libmpi.so.40", "libmpi.so"]

    let comm: Handle
    let float: Handle, double: Handle, int32: Handle
    let sum: Handle, max: Handle
    private let initialize: InitFn
    private let finalizeFn: FinalizeFn
    private let commRank: CommIntFn, commSize: CommIntFn
    private let allreduceFn: AllreduceFn
    private let allgathervFn: AllgathervFn
    private let barrierFn: BarrierFn

    /// Loads the library and binds every symbol; throws a one-line error naming what is missing.
    init() throws {
        var library: UnsafeMutableRawPointer?
        var tried: [String] = []
        for name in Self.libraryNames {
            // RTLD_GLOBAL: Open MPI's own plug-ins resolve their symbols against libmpi.
            library = dlopen(name, RTLD_NOW | RTLD_GLOBAL)
            if library != nil { break }
            tried.append(String(cString: dlerror()))
        }
        guard let library else {
            throw ClusterError("launched by mpirun, but Open MPI's library could not be loaded (\(tried.joined(separator: "; "))): "
                + "install it with 'apt-get install -y openmpi-bin libopenmpi-dev'")
        }
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let s = dlsym(library, name) else {
                throw ClusterError("the loaded MPI library has no \(name): dde-train needs Open MPI (libmpi.so.40)")
            }
            return s
        }
        func function<F>(_ name: String, _: F.Type) throws -> F { unsafeBitCast(try symbol(name), to: F.self) }
        comm = try symbol("ompi_mpi_comm_world")
        float = try symbol("ompi_mpi_float")
        double = try symbol("ompi_mpi_double")
        int32 = try symbol("ompi_mpi_int")
        sum = try symbol("ompi_mpi_op_sum")
        max = try symbol("ompi_mpi_op_max")
        initialize = try function("MPI_Init", InitFn.self)
        finalizeFn = try function("MPI_Finalize", FinalizeFn.self)
        commRank = try function("MPI_Comm_rank", CommIntFn.self)
        commSize = try function("MPI_Comm_size", CommIntFn.self)
        allreduceFn = try function("MPI_Allreduce", AllreduceFn.self)
        allgathervFn = try function("MPI_Allgatherv", AllgathervFn.self)
        barrierFn = try function("MPI_Barrier", BarrierFn.self)
    }

    /// MPI_Init, then this process's rank and the number of ranks.
    func start() throws -> (rank: Int, size: Int) {
        try check(initialize(nil, nil), "MPI_Init")
        var rank: Int32 = 0, size: Int32 = 0
        try check(commRank(comm, &rank), "MPI_Comm_rank")
        try check(commSize(comm, &size), "MPI_Comm_size")
        return (Int(rank), Int(size))
    }

    func finalize() { _ = finalizeFn() }

    /// In place: every rank's `count` values of `type` combined with `op`, on every rank.
    func allreduce(_ buffer: UnsafeMutableRawPointer, count: Int, type: Handle, op: Handle) {
        precondition(count <= Int(Int32.max), "MPI_Allreduce of \(count) values: more than Int32.max")
        _ = allreduceFn(UnsafeRawPointer(bitPattern: 1), buffer, Int32(count), type, op, comm)
    }

    /// Rank r's `counts[r]` values (from `send`) at `displacements[r]` of `receive`, on every rank.
    func allgatherv(_ send: UnsafeRawPointer, count: Int, _ receive: UnsafeMutableRawPointer, counts: [Int32],
                    displacements: [Int32], type: Handle) {
        _ = allgathervFn(send, Int32(count), type, receive, counts, displacements, type, comm)
    }

    func barrier() { _ = barrierFn(comm) }

    private func check(_ code: Int32, _ call: String) throws {
        if code != 0 { throw ClusterError("\(call) failed with MPI error \(code)") }
    }
}

/// A one-line error about the MPI set-up.
public struct ClusterError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
