import ArgumentParser
import DDECore

/// `dde-train export checkpoint=PATH out=DIR`: the diffusers folder of docs/MODEL.md.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write checkpoint=PATH as a diffusers folder (out=DIR): UNet2DModel plus the prompt encoder, or unet/, text_encoder/, scheduler/ for a UNet2DConditionModel."
    )

    @OptionGroup var options: RunOptions

    func run() throws {
        try options.execute(lockRunFolder: false, onRanks: false) { settings, workspace in
            let checkpoint = settings.checkpoint
            guard !checkpoint.isEmpty else { throw ValidationError("export needs checkpoint=PATH") }
            let (model, file) = try options.loadModel(checkpoint, workspace: workspace)
            try DiffusersExport.write(model, to: settings.out, schedule: settings.schedule, sampler: settings.sampler.kind,
                                      metadata: file.metadata.filter { ["tokenizer", "encoder_dim", "unet_config", "format"].contains($0.key) },
                                      mergeLoRA: settings.lora.mergeOnExport)
            switch model.architecture {
            case .unet2D: print("exported \(checkpoint) to \(settings.out) (UNet2DModel.from_pretrained loads it)")
            case .unet2DCondition:
                print("exported \(checkpoint) to \(settings.out): unet/ (UNet2DConditionModel.from_pretrained), text_encoder/ (CLIPTextModel.from_pretrained), scheduler/, tokenizer/")
                if model.lora != nil {
                    print(settings.lora.mergeOnExport
                          ? "  unet/ holds the LoRA adapters merged into the base weights (lora.merge=true)"
                          : "  \(DiffusersExport.loraWeightsName): the LoRA adapters (unet.load_lora_adapter(out, weight_name=..., prefix=\"unet\"), peft installed)")
                }
            }
        }
    }
}
