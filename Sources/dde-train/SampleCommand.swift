import ArgumentParser
import DDECore
import Foundation

/// `dde-train sample checkpoint=PATH sample.prompts="a;b" n=8 seed=S [trace=PATH]`: a PNG grid,
/// rows the prompts and columns the seeds S, S+1, ...; without `sample.prompts`, every caption of
/// `prompts = FILE`, else the first 8 validation prompts of the run's data.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Sample a grid (rows: prompts, columns: seeds) from checkpoint=PATH; trace=PATH also writes the run's tensors."
    )

    @OptionGroup var options: RunOptions

    func run() throws {
        try options.execute(lockRunFolder: false) { settings, workspace in
            let checkpoint = settings.checkpoint
            guard !checkpoint.isEmpty else {
                throw ValidationError("sample needs checkpoint=PATH (a model.safetensors or a checkpoint)")
            }
            let (model, _) = try options.loadModel(checkpoint, workspace: workspace)
            model.store.freeze()
            var prompts = settings.sample.prompts
            if prompts.isEmpty {
                let run = try RunPrompts.resolve(settings.data)
                prompts = settings.data.promptsFile.isEmpty ? run.validation.prefix(8).map(\.text) : run.all.map(\.text)
                guard !prompts.isEmpty else { throw TrainingError("\(run.source) gives no validation prompts to sample; set sample.prompts=\"a;b\"") }
            }
            let n = settings.sample.n, sampler = settings.sampler, diffusion = settings.diffusion
            let started = Stopwatch.now()
            let result = Sampling.generate(model, prompts: prompts, perPrompt: n, sampler: sampler, schedule: settings.schedule,
                                           seed: settings.seed)
            let seconds = Stopwatch.now() - started
            let out = settings.out
            try FileIO.createFolder(out)
            let grid = out + "/samples.png"
            try PNGFile.write(ImageGrid.make(result.images.map { $0.map(\.image) }, scale: 4), to: grid)
            print(String(format: "%@: %d prompts x %d seeds (%.1f images/s); rows:", grid, prompts.count, n,
                         Double(prompts.count * n) / seconds))
            for (i, p) in prompts.enumerated() { print("  \(i + 1). \(p)") }
            let trace = settings.sample.trace
            if !trace.isEmpty {
                let s = model.sampleSize, count = prompts.count * n, e = model.conditioningCount
                var writer = SafeTensorsWriter(metadata: [
                    "schedule": diffusion.kind.rawValue, "timesteps_T": String(diffusion.timesteps),
                    "beta_start": String(diffusion.betaStart), "beta_end": String(diffusion.betaEnd),
                    "sampler": sampler.kind.rawValue, "steps": String(sampler.steps),
                    "eta": String(sampler.eta), "guidance": String(sampler.guidance),
                    "prompts": prompts.joined(separator: ";"), "seed": String(settings.seed), "n": String(n),
                    "timestep_spacing": "leading", "steps_offset": "1", "set_alpha_to_one": "false", "clip_sample": "false",
                ])
                try writer.add("noise", shape: [count, 3, s, s], result.noise)
                switch model.architecture {
                case .unet2D:
                    try writer.add("cond", shape: [count, e], result.cond)
                    try writer.add("uncond", shape: [count, e], result.uncond)
                case .unet2DCondition:
                    // The conditional and unconditional branches as Stable Diffusion's pipeline
                    // feeds them: token ids and the text encoder's last hidden states.
                    let l = model.tokenizer.maxTokens
                    let ids = prompts.flatMap { p in (0..<n).flatMap { _ in model.tokenizer.encode(p).map(Int64.init) } }
                    try writer.add("input_ids", shape: [count, l], ids)
                    try writer.add("uncond_input_ids", shape: [count, l], Array(repeating: Int64(Tokenizer.pad), count: count * l))
                    try writer.add("encoder_hidden_states", shape: [count, l, e / l], result.cond)
                    try writer.add("uncond_encoder_hidden_states", shape: [count, l, e / l], result.uncond)
                }
                try writer.add("timesteps", shape: [result.timesteps.count], result.timesteps.map { Int64($0) })
                try writer.add("images", shape: [count, 3, s, s], result.images.flatMap { $0.flatMap(\.x0) })
                try writer.write(to: trace)
                print("trace: \(trace)")
            }
        }
    }
}
