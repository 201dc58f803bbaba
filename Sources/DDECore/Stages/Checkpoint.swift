import Foundation

/// Model files and training checkpoints: safetensors with the U-Net's diffusers names and the
/// prompt encoder's `prompt_encoder.*` (or the text encoder's `text_encoder.text_model.*`) tensors; a checkpoint adds the AdamW moments (`adam.m`,
/// `adam.v`) and the EMA weights (`ema`) as flat tensors. Everything that is not a tensor goes
/// into `__metadata__`: the architecture, the tokenizer, the resolved config, the step, every
/// random stream's state, the dde-train version and git commit.
public enum Checkpoint {
    public static let format = "dde-train/1"

    /// Metadata every model file carries, from which `loadModel` rebuilds the network.
    public static func modelMetadata(_ model: TextToImageModel, config: Config, build: BuildInfo,
                                     stage: String) -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func json<T: Encodable>(_ value: T) -> String { String(decoding: try! encoder.encode(value), as: UTF8.self) }
        var meta = [
            "format": format,
            "stage": stage,
            "tokenizer": json(model.tokenizer),
            "config": config.rendered(),
            "dde_train_version": build.version,
            "git_commit": build.commit,
        ]
        // The attention-free model's files carry what they carried before the second
        // architecture (no model_class: UNet2DModel), so earlier files and signatures still match.
        switch model.architecture {
        case .unet2D(let unet, let encoderDimension):
            meta["unet_config"] = json(unet)
            meta["encoder_dim"] = String(encoderDimension)
        case .unet2DCondition(let unet, let text):
            meta["model_class"] = model.architecture.className
            meta["unet_config"] = json(unet)
            meta["text_encoder_config"] = json(text)
        }
        return meta
    }

    /// Writes the model's weights (crash-safe), with `extra` metadata and optional flat buffers.
    /// A model with LoRA adapters writes the adapters alone (`loraMetadata` names their base).
    public static func save(_ model: TextToImageModel, to path: String, metadata: [String: String],
                            buffers: KeyValuePairs<String, FloatBuffer> = [:]) throws {
        try model.trainableStore.write(to: path, metadata: metadata, buffers: buffers)
    }

    /// What a LoRA fine-tune's files record of their adapters and base: rank, alpha, targets,
    /// dropout, and the base model's path (as given, and relative to the run folder `folder`)
    /// and content digest, checked when the adapters are loaded.
    public static func loraMetadata(_ model: TextToImageModel, base: String, baseDigest: ContentDigest,
                                    in folder: String) -> [String: String] {
        guard let lora = model.lora else { return [:] }
        return [
            "lora_rank": String(lora.settings.rank),
            "lora_alpha": String(lora.settings.alpha),
            "lora_targets": lora.settings.targets.joined(separator: ","),
            "lora_dropout": String(lora.settings.dropout),
            "lora_base": base,
            "lora_base_relative": FileIO.relativePath(base, from: folder),
            "lora_base_digest": baseDigest.hex,
        ]
    }

    /// Rebuilds a model from a model file or checkpoint: architecture and tokenizer from the
    /// metadata, then every tensor checked by name and shape. Extra tensors are allowed only
    /// under the checkpoint's own names (`adam.m`, `adam.v`, `ema`, `record.*`), so a fine-tune's
    /// checkpoint loads as its model; every weight must be finite. The model computes in
    /// `workspace`.
    /// `diffusers:DIR` imports a diffusers folder instead (`DiffusersImport.model`).
    public static func loadModel(_ path: String, workspace: Workspace) throws -> (model: TextToImageModel, file: SafeTensorsReader) {
        if path.hasPrefix(DiffusersImport.prefix) {
            return try DiffusersImport.model(String(path.dropFirst(DiffusersImport.prefix.count)), workspace: workspace)
        }
        let file = try SafeTensorsReader(contentsOf: path)
        let meta = file.metadata
        guard meta["format"] == format else {
            throw SafeTensorsError(path, "not a dde-train model (metadata 'format' is \(meta["format"].map { "'\($0)'" } ?? "missing"), expected '\(format)')")
        }
        if meta["lora_rank"] != nil { return (try loadLoRAModel(file, workspace: workspace), file) }
        let (architecture, tokenizer) = try architecture(of: file)
        let model = TextToImageModel(architecture, tokenizer: tokenizer, workspace: workspace)
        try model.store.load(from: file, allowExtra: Checkpoint.isTrainingState)
        return (model, file)
    }

    /// A LoRA fine-tune's file: its base, found where the file says (beside the run folder first,
    /// then the path as given) and checked by content digest, with the file's adapters attached.
    static func loadLoRAModel(_ file: SafeTensorsReader, workspace: Workspace) throws -> TextToImageModel {
        let meta = file.metadata
        guard let rank = meta["lora_rank"].flatMap(Int.init), rank > 0, let alpha = meta["lora_alpha"].flatMap(Double.init),
              let targets = meta["lora_targets"]?.split(separator: ",").map(String.init), !targets.isEmpty,
              let dropout = meta["lora_dropout"].flatMap(Double.init), let basePath = meta["lora_base"],
              let digest = meta["lora_base_digest"] else {
            throw SafeTensorsError(file.name, "LoRA adapters with incomplete metadata (lora_rank, lora_alpha, lora_targets, lora_dropout, lora_base, lora_base_digest)")
        }
        let folder = (file.name as NSString).deletingLastPathComponent
        let candidates = [meta["lora_base_relative"].map { FileIO.resolve($0, from: folder) }, basePath].compactMap { $0 }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw SafeTensorsError(file.name, "LoRA adapters for the base model \(basePath) (content digest \(digest)), which is not there; "
                                   + "restore that file, or run from the folder the fine-tune ran in")
        }
        let model = try loadModel(found, workspace: workspace).model
        let foundDigest = model.contentDigest.hex
        guard model.lora == nil, foundDigest == digest else {
            throw SafeTensorsError(file.name, "LoRA adapters for the base model with content digest \(digest), but \(found) has \(foundDigest) "
                                   + "(another model under that name?); restore the base they were trained on")
        }
        var unused = RandomStream(seed: 0)
        let lora = try model.attachLoRA(LoRAAdapters.Settings(rank: rank, alpha: alpha, targets: targets, dropout: dropout), rng: &unused)
        try lora.store.load(from: file, allowExtra: Checkpoint.isTrainingState)
        return model
    }

    /// The tensors a checkpoint holds beside the model: AdamW's moments, the EMA weights and a
    /// fine-tune's DDE record (`record.*`), training state a model load skips.
    static func isTrainingState(_ name: String) -> Bool {
        ["adam.m", "adam.v", "ema"].contains(name) || name.hasPrefix("record.")
    }

    /// The note for a model file or checkpoint without a checksum (`SafeTensors.checksumKey`),
    /// or nil: written before dde-train checked its files, it is loaded unverified.
    public static func unverifiedNote(_ file: SafeTensorsReader) -> String? {
        file.checksumVerified ? nil : "note: \(file.name) carries no checksum (written before dde-train checked its files, or by another tool); loaded without verifying its bytes"
    }

    /// A random stream's state as metadata text, and back.
    public static func encode(_ rng: RandomStream) -> String { rng.stateArray.map { String($0) }.joined(separator: ",") }

    public static func decodeStream(_ text: String?, file: String, key: String) throws -> RandomStream {
        let parts = (text ?? "").split(separator: ",").compactMap { UInt64($0) }
        guard parts.count == 4 else { throw SafeTensorsError(file, "metadata '\(key)' is not a random-stream state") }
        return RandomStream(state: parts)
    }

    /// The checkpoint the `resume` key asks for: nil for "", the newest in `checkpoints` for
    /// "auto" (nil when there is none yet), or the given path, which must exist.
    public static func resumePath(_ resume: String, checkpoints: String) throws -> String? {
        if resume.isEmpty { return nil }
        if resume == "auto" { return latest(in: checkpoints) }
        guard FileManager.default.fileExists(atPath: resume) else {
            throw TrainingError("key 'resume': \(resume) does not exist (use auto, a checkpoint path, or leave it empty)")
        }
        return resume
    }

    /// The newest `step-NNNNNNN.safetensors` in a folder, or nil.
    public static func latest(in folder: String) -> String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasPrefix("step-") && $0.hasSuffix(".safetensors") }.sorted().last.map { folder + "/" + $0 }
    }

    public static func fileName(step: Int) -> String { String(format: "step-%07d.safetensors", step) }

    /// Deletes all but the newest `keep` checkpoints in a folder.
    public static func prune(_ folder: String, keep: Int) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasPrefix("step-") && $0.hasSuffix(".safetensors") }.sorted()
        for name in names.dropLast(keep) { try? FileIO.remove(folder + "/" + name) }
    }
}

/// The training state every stage's checkpoint carries beside the weights, under the same
/// names: AdamW's moments as the flat tensors `adam.m`, `adam.v`; in the metadata the step
/// (`step`), AdamW's step (`adam.step`), every random stream (`rng.<name>`) and the stage
/// signature (`stage_signature`), which a resume must match.
extension Checkpoint {
    /// `base` plus the step, AdamW's step and the streams, as metadata.
    static func stateMetadata(_ base: [String: String], step: Int, optimizer: AdamW,
                              streams: KeyValuePairs<String, RandomStream>) -> [String: String] {
        var meta = base
        meta["step"] = String(step)
        meta["adam.step"] = String(optimizer.step)
        for (name, rng) in streams { meta["rng." + name] = encode(rng) }
        return meta
    }

    /// Opens the checkpoint to resume from and checks it continues this run: written by the
    /// same stage with the same `signature` (the keys whose name starts with one of `mayGrow`
    /// may differ, e.g. `pretrain.steps=` to train a finished run longer). Returns the file and
    /// its step; the caller loads the weights.
    static func openForResume(_ path: String, stage: String, signature: StageSignature,
                              mayGrow: [String] = []) throws -> (file: SafeTensorsReader, step: Int) {
        let file = try SafeTensorsReader(contentsOf: path)
        guard file.metadata["stage"] == stage, let step = file.metadata["step"].flatMap(Int.init) else {
            throw TrainingError("\(path): not a checkpoint of the \(stage) stage (metadata 'stage' is \(file.metadata["stage"] ?? "missing")); resume=auto takes the newest in the stage's checkpoints/")
        }
        guard let theirs = file.metadata["stage_signature"] else {
            throw TrainingError("\(path): the checkpoint records no stage_signature, so its settings cannot be checked; resume needs a checkpoint of this run")
        }
        let recorded = StageSignature(stage: signature.stage, text: theirs).without(mayGrow)
        let differences = signature.without(mayGrow).differences(from: recorded)
        if !differences.isEmpty {
            throw TrainingError("\(path): a checkpoint of a run with other settings or inputs (" + differences.joined(separator: ", ")
                                + "); resume needs the same settings and inputs")
        }
        return (file, step)
    }

    /// AdamW's moments and step from a checkpoint written with `stateMetadata`.
    static func restore(_ optimizer: AdamW, store: ParameterStore, from file: SafeTensorsReader, step: Int) throws {
        try store.readBuffer("adam.m", from: file, into: optimizer.m)
        try store.readBuffer("adam.v", from: file, into: optimizer.v)
        optimizer.step = file.metadata["adam.step"].flatMap(Int.init) ?? step
    }

    /// A stream saved by `stateMetadata`.
    static func stream(_ name: String, from file: SafeTensorsReader) throws -> RandomStream {
        try decodeStream(file.metadata["rng." + name], file: file.name, key: "rng." + name)
    }

    /// Writes a checkpoint, then deletes all but the newest `keep` and any temporary files
    /// killed runs left in the folder.
    static func write(_ writer: SafeTensorsWriter, folder: String, step: Int, keep: Int) throws {
        try writer.write(to: folder + "/" + fileName(step: step))
        prune(folder, keep: keep)
        FileIO.removeStaleTemporaries(in: folder)
    }
}
