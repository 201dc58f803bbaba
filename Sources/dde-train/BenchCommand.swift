import ArgumentParser
import DDECore
import Foundation

/// `dde-train bench kernels`: convolution vs plain sgemm on the reference shapes.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks. `bench kernels`: conv forward/backward vs sgemm on model.md's reference shapes; `bench step`: a U-Net forward + backward with its profile."
    )

    @Argument(help: "Which benchmark: kernels or step.")
    var mode: String

    @OptionGroup var options: RunOptions

    func run() throws {
        guard ["kernels", "step"].contains(mode) else {
            throw ValidationError("unknown benchmark '\(mode)': the benchmarks are: kernels, step")
        }
        try options.execute(lockRunFolder: false) { config in
            if mode == "step" { return stepBench(config) }
            let threads = config.int("threads")
            let bench = KernelBench(warmup: config.int("bench.warmup"), repeats: config.int("bench.repeats"))
            print("OpenBLAS \(BLAS.coreName) kernel; OPENBLAS_CORETYPE=\(env("OPENBLAS_CORETYPE")) OPENBLAS_L2_SIZE=\(env("OPENBLAS_L2_SIZE")); threads \(threads); median of \(bench.repeats) after \(bench.warmup) warm-up")
            print(pad("shape", 22) + pad("fwd ms", 9) + pad("bwd ms", 9) + pad("conv GF/s", 11) + pad("sgemm ms", 10) + pad("sgemm GF/s", 12) + "conv/sgemm")
            var convTime = 0.0, sgemmTime = 0.0, flops = 0.0
            for c in KernelBench.referenceCases {
                let r = bench.run(c)
                convTime += r.forward.median + r.backward.median
                sgemmTime += r.sgemmForward.median + r.sgemmBackward.median
                flops += 3 * r.forwardFLOPs
                print(pad(r.name, 22) + pad(ms(r.forward.median), 9) + pad(ms(r.backward.median), 9)
                      + pad(String(format: "%.1f", r.convRate), 11)
                      + pad(ms(r.sgemmForward.median + r.sgemmBackward.median), 10)
                      + pad(String(format: "%.1f", r.sgemmRate), 12) + String(format: "%.0f%%", 100 * r.convRate / r.sgemmRate))
        }
        print(pad("all", 22) + pad("", 18) + pad(String(format: "%.1f", flops / convTime / 1e9), 11)
              + pad(ms(sgemmTime), 10) + pad(String(format: "%.1f", flops / sgemmTime / 1e9), 12)
              + String(format: "%.0f%%", 100 * sgemmTime / convTime))
        }
    }

    /// Forward + backward of the configured U-Net at `pretrain.batch` images, with a profile.
    private func stepBench(_ config: Config) {
        let unet = Pretrainer.unetConfig(config), batch = config.int("pretrain.batch")
        let r = StepBench(config: unet, batch: batch, warmup: config.int("bench.warmup"), repeats: config.int("bench.repeats")).run()
        print("U-Net \(unet.blockOutChannels.map(String.init).joined(separator: ",")) x\(unet.layersPerBlock), "
              + "\(unet.sampleSize)x\(unet.sampleSize), batch \(batch), \(r.parameters) parameters (with the prompt encoder); "
              + "threads \(config.int("threads")); OpenBLAS \(BLAS.coreName)")
        print(String(format: "forward %.1f ms (%.1f-%.1f), backward %.1f ms (%.1f-%.1f): median (min-max) of %d",
                     r.forward.median * 1000, r.forward.min * 1000, r.forward.max * 1000,
                     r.backward.median * 1000, r.backward.min * 1000, r.backward.max * 1000, config.int("bench.repeats")))
        print("one profiled forward + backward:")
        for (section, seconds, calls) in r.profile where calls > 0 {
            print("  " + pad(section.rawValue, 32) + String(format: "%7.1f ms  %4d calls", seconds * 1000, calls))
        }
    }

    private func env(_ name: String) -> String { ProcessInfo.processInfo.environment[name] ?? "(unset)" }
    private func ms(_ s: Double) -> String { String(format: "%.2f", s * 1000) }
    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
}
