/// The global L2 norm of all gradients, as one `Double` accumulation over the flat buffer.
///
/// Same value as PyTorch's `total_norm` in `clip_grad_norm_` (the 2-norm of the per-tensor
/// 2-norms is the 2-norm of the concatenation), but summed in `Double`, so it neither
/// overflows nor loses the small tensors next to large ones.
public func gradientNorm(_ store: ParameterStore, _ ws: Workspace) -> Double {
    ws.profiler.measure(.gradientChecks) { sumOfSquares(store.grads.pointer, count: store.count, ws).squareRoot() }
}

/// Clips the gradients to a global L2 norm of at most `maxNorm`, like PyTorch's
/// `torch.nn.utils.clip_grad_norm_(params, maxNorm)` (norm_type 2, foreach irrelevant).
///
/// `coefficient = maxNorm / (norm + 1e-6)`; when it is below 1 (that is, when
/// `norm > maxNorm - 1e-6`, PyTorch's `clamp(max=1)`) every gradient is multiplied by it,
/// otherwise the gradients are left exactly as they are. A non-finite norm leaves the
/// gradients untouched (PyTorch would multiply by NaN or 0); find the culprit with
/// `FiniteCheck.firstNonFiniteGradient` and skip the step.
///
/// - Returns: the norm *before* clipping, as PyTorch does; log it.
@discardableResult
public func clipGradNorm(_ store: ParameterStore, maxNorm: Double, _ ws: Workspace) -> Float {
    precondition(maxNorm > 0, "clipGradNorm: maxNorm must be > 0, got \(maxNorm)")
    let norm = gradientNorm(store, ws)
    let coefficient = maxNorm / (norm + 1e-6)
    if norm.isFinite && coefficient < 1 { scaleGradients(store, Float(coefficient), ws) }
    return Float(norm)
}

/// `sum(p[i]^2)` over `0..<count`, accumulated in `Double`, parallel over the workspace's threads.
///
/// Each thread sums a contiguous chunk into eight `Double` lanes (so the loop vectorises
/// without reassociating anything the compiler may not); the per-thread partials are added in
/// thread order, so the result does not depend on timing. Partials live on the stack.
public func sumOfSquares(_ p: UnsafePointer<Float>, count: Int, _ ws: Workspace) -> Double {
    let minimumPerThread = 1 << 15
    let threads = max(1, min(ws.threads, count / minimumPerThread))
    let chunk = (count + threads - 1) / threads
    let src = SendablePointer(p)
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: threads) { partials in
        let out = SendablePointer(partials.baseAddress!)
        parallelChunks(threads, threads: ws.threads, minimumPerThread: 1) { ts in
            for t in ts {
                let lo = min(count, t * chunk), hi = min(count, lo + chunk)
                out.pointer[t] = sumOfSquaresSerial(src.pointer + lo, count: hi - lo)
            }
        }
        var total = 0.0
        for t in 0..<threads { total += partials[t] }
        return total
    }
}

@inline(__always)
func sumOfSquaresSerial(_ p: UnsafePointer<Float>, count: Int) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, s5 = 0.0, s6 = 0.0, s7 = 0.0
    var i = 0
    while i + 8 <= count {
        let x0 = Double(p[i]), x1 = Double(p[i + 1]), x2 = Double(p[i + 2]), x3 = Double(p[i + 3])
        let x4 = Double(p[i + 4]), x5 = Double(p[i + 5]), x6 = Double(p[i + 6]), x7 = Double(p[i + 7])
        s0 += x0 * x0; s1 += x1 * x1; s2 += x2 * x2; s3 += x3 * x3
        s4 += x4 * x4; s5 += x5 * x5; s6 += x6 * x6; s7 += x7 * x7
        i += 8
    }
    while i < count { let x = Double(p[i]); s0 += x * x; i += 1 }
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}
