import ArgumentParser
import DDECore

/// `dde-train forward checkpoint=PATH|diffusers:DIR inputs=FILE out=FILE`: one U-Net forward pass.
struct ForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "One UNet2DConditionModel forward pass (checkpoint=PATH or diffusers:DIR) on inputs=FILE (sample, timestep, encoder_hidden_states), written to out=FILE."
    )

    @OptionGroup var options: RunOptions

    func run() throws {
        try options.execute(lockRunFolder: false, onRanks: false) { settings, workspace in
            guard !settings.checkpoint.isEmpty else { throw ValidationError("forward needs checkpoint=PATH or checkpoint=diffusers:DIR") }
            guard !settings.inputs.isEmpty else { throw ValidationError("forward needs inputs=FILE (a safetensors file of sample, timestep, encoder_hidden_states)") }
            guard settings.out.hasSuffix(".safetensors") else {
                throw ValidationError("forward needs out=FILE.safetensors (the output file), got '\(settings.out)'")
            }
            let result = try UNetForward.run(checkpoint: settings.checkpoint, inputs: settings.inputs, out: settings.out,
                                             workspace: workspace)
            print(String(format: "forward: %d samples in %.3f s -> %@", result.batch, result.seconds, settings.out))
        }
    }
}
