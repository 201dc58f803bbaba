import ArgumentParser
import DDECore
import Foundation

/// `dde-train bench`: training steps and sampling on the configured model (configs/bench.conf:
/// docs/MODEL.md's reference size), the figures scripts/bench-vs-pytorch.sh compares with PyTorch;
/// `bench kernels`: convolution vs plain sgemm; `bench step`: a forward + backward's profile.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks. `bench`: pretrain, DPO and DDE steps, sampling, peak memory; `bench kernels`: conv forward/backward vs sgemm on docs/MODEL.md's reference shapes; `bench step`: a U-Net forward + backward with its profile."
    )

    @Option(help: "Comma-separated parts of the default benchmark: pretrain, dpo, dde, sample, lora-dpo (default: all; lora-dpo on UNet2DConditionModel only).")
    var only: String?

    @Flag(help: "Print the default benchmark's figures as one JSON object.")
    var json = false

    @OptionGroup var options: RunOptions

    func run() throws {
        // The benchmark's name, when given, is the first word without '=' (`bench kernels
        // --config X key=value`); the overrides share the positional arguments with it.
        var options = self.options
        let mode = options.overrides.first.flatMap { $0.contains("=") ? nil : $0 }
        if mode != nil { options.overrides.removeFirst() }
        guard mode == nil || ["kernels", "step"].contains(mode!) else {
            throw ValidationError("unknown benchmark '\(mode!)': the benchmarks are: kernels, step, or none (the training steps and sampling)")
        }
        let named = try only?.split(separator: ",").map { name in
            guard let part = TrainingBench.Part(rawValue: String(name)) else {
                throw ValidationError("--only: unknown part '\(name)': the parts are pretrain, dpo, dde, sample, lora-dpo")
            }
            return part
        }
        try options.execute(lockRunFolder: false) { settings, workspace in
            let parts = named ?? TrainingBench.Part.defaults(for: settings.model.modelClass)
            if mode == nil { return try trainingBench(settings, parts, workspace) }
            if mode == "step" { return stepBench(settings, workspace) }
            let threads = settings.threads
            let bench = KernelBench(warmup: settings.bench.warmup, repeats: settings.bench.repeats, workspace: workspace)
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

    private func trainingBench(_ settings: RunSettings, _ parts: [TrainingBench.Part], _ workspace: Workspace) throws {
        let threads = settings.threads, unet = settings.model.unet, size = unet.sampleSize
        let header = "\(settings.model.modelClass.rawValue) \(unet.blockOutChannels.map(String.init).joined(separator: ",")) x\(unet.layersPerBlock), \(size)x\(size); "
            + (Cluster.current.isParallel ? "\(Cluster.current.size) MPI ranks x " : "") + "threads \(threads); OpenBLAS \(BLAS.coreName) (OPENBLAS_CORETYPE=\(env("OPENBLAS_CORETYPE")) OPENBLAS_L2_SIZE=\(env("OPENBLAS_L2_SIZE"))); "
            + "conv.winograd=\(settings.winograd.rawValue); median (min-max) of \(settings.bench.repeats) after \(settings.bench.warmup) warm-up"
        if !json { print(header) }
        let figures = try TrainingBench(settings: settings, workspace: workspace).run(parts) { if !json { print($0 + "...") } }
        let peak = PeakMemory.residentMiB
        let key: [TrainingBench.Part: String] = [.pretrain: "pretrain_step_ms", .dpo: "dpo_step_ms", .dde: "dde_step_ms",
                                                 .loraDPO: "lora_dpo_step_ms"]
        if json {
            var fields: [(String, String)] = []
            for part in parts {
                guard let t = figures.timings[part] else { continue }
                if let name = key[part] {
                    fields += [(name, ms(t.median)), (name + "_min", ms(t.min)), (name + "_max", ms(t.max))]
                } else if let rate = figures.sampleImagesPerSecond {
                    fields += [("sample_images_per_s", String(format: "%.3f", rate)), ("sample_images", String(figures.sampleImages))]
                }
                fields.append(("\(part.rawValue)_tensor_allocations_per_step", String(format: "%.1f", figures.allocationsPerStep[part] ?? 0)))
                if Cluster.current.isParallel, let c = figures.communicationPerStep[part] {
                    fields += [("\(part.rawValue)_communication_ms", ms(c.seconds)),
                               ("\(part.rawValue)_communication_mb", String(format: "%.2f", c.bytes / 1e6))]
                }
            }
            fields.append(("peak_rss_mb", String(format: "%.1f", peak)))
            if let (t, bytes) = figures.gradientAllreduce {
                fields += [("allreduce_ms", ms(t.median)), ("allreduce_mb", String(format: "%.2f", Double(bytes) / 1e6))]
            }
            if let g = figures.pretrainGFLOPsPerSecond { fields.append(("gflops_per_s", String(format: "%.1f", g))) }
            fields += [("parameters", String(figures.parameters)), ("threads", String(threads)), ("ranks", String(Cluster.current.size)),
                       ("openblas_core", "\"\(BLAS.coreName)\""), ("winograd", "\"\(settings.winograd.rawValue)\"")]
            print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
            return
        }
        let parallel = Cluster.current.isParallel
        print(pad("part", 10) + pad("median", 12) + pad("min-max", 20) + pad("tensor allocations per step", 30)
              + (parallel ? "communication per step (MPI)" : ""))
        for part in parts {
            guard let t = figures.timings[part] else { continue }
            let unit = part == .sample ? "s/run" : "ms"
            let scale = part == .sample ? 1.0 : 1000.0
            var line = pad(part.rawValue, 10) + pad(String(format: "%.1f ", t.median * scale) + unit, 12)
                + pad(String(format: "%.1f-%.1f", t.min * scale, t.max * scale), 20)
                + pad(String(format: "%.1f", figures.allocationsPerStep[part] ?? 0), 30)
            if parallel, let c = figures.communicationPerStep[part] {
                line += String(format: "%.1f ms (%.0f%% of the mean step), %.1f MB", c.seconds * 1000,
                               100 * c.seconds / max(t.median, 1e-9), c.bytes / 1e6)
            }
            print(line)
        }
        if let rate = figures.sampleImagesPerSecond {
            print(String(format: "sampling: %.2f images/s (%d images, %d DDIM steps, guidance %g)", rate, figures.sampleImages,
                         settings.sampler.steps, settings.sampler.guidance))
        }
        if let g = figures.pretrainGFLOPsPerSecond {
            print(String(format: "pretrain step: %.1f GFLOP nominal, %.1f GFLOP/s", figures.pretrainFLOPs / 1e9, g))
        }
        print(String(format: "peak resident memory: %.1f MiB; %d parameters", peak, figures.parameters))
        if let (t, bytes) = figures.gradientAllreduce {
            print(String(format: "allreduce of the gradients alone (%.2f MB, %d ranks): %.2f ms (%.2f-%.2f)", Double(bytes) / 1e6,
                         Cluster.current.size, t.median * 1000, t.min * 1000, t.max * 1000))
        }
        if let (total, sections) = figures.pretrainProfile {
            print(String(format: "one profiled pretrain step, %.1f ms:", total * 1000))
            var accounted = 0.0
            for (section, seconds, calls) in sections where calls > 0 {
                if !section.rawValue.hasPrefix(" ") { accounted += seconds }
                print("  " + pad(section.rawValue, 52) + String(format: "%7.1f ms %5.1f%%  %4d calls", seconds * 1000, 100 * seconds / total, calls))
            }
            print("  " + pad("the rest (noise, MSE, scheduling)", 52) + String(format: "%7.1f ms %5.1f%%", (total - accounted) * 1000, 100 * (total - accounted) / total))
        }
    }

    /// Forward + backward of the configured U-Net at `pretrain.batch` images, with a profile.
    private func stepBench(_ settings: RunSettings, _ workspace: Workspace) {
        let unet = settings.model.unet, batch = settings.pretrain.batch
        let r = StepBench(settings: settings.model, batch: batch, warmup: settings.bench.warmup, repeats: settings.bench.repeats,
                           workspace: workspace).run()
        print("\(settings.model.modelClass.rawValue) \(unet.blockOutChannels.map(String.init).joined(separator: ",")) x\(unet.layersPerBlock), "
              + "\(unet.sampleSize)x\(unet.sampleSize), batch \(batch), \(r.parameters) parameters (with the prompt's encoder); "
              + "threads \(settings.threads); OpenBLAS \(BLAS.coreName)")
        print(String(format: "forward %.1f ms (%.1f-%.1f), backward %.1f ms (%.1f-%.1f): median (min-max) of %d",
                     r.forward.median * 1000, r.forward.min * 1000, r.forward.max * 1000,
                     r.backward.median * 1000, r.backward.min * 1000, r.backward.max * 1000, settings.bench.repeats))
        print("one profiled forward + backward:")
        for (section, seconds, calls) in r.profile where calls > 0 {
            print("  " + pad(section.rawValue, 32) + String(format: "%7.1f ms  %4d calls", seconds * 1000, calls))
        }
    }

    private func env(_ name: String) -> String { ProcessInfo.processInfo.environment[name] ?? "(unset)" }
    private func ms(_ s: Double) -> String { String(format: "%.2f", s * 1000) }
    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
}
