import Foundation

/// `dde-train forward`: one forward pass of a `UNet2DConditionModel` (a dde-train checkpoint or
/// `diffusers:DIR`) on the tensors of a safetensors file, the way a user checks an import
/// against diffusers:
///
///     inputs:  sample [N, C, H, W] (F32, F16 or BF16), timestep [N] or [] (F32 or I64),
///              encoder_hidden_states [N, L, D]
///     output:  sample [N, C_out, H, W] F32, written crash-safely
public enum UNetForward {
    public struct Result {
        public let batch: Int
        public let seconds: Double
    }

    public static func run(checkpoint: String, inputs: String, out: String, workspace: Workspace) throws -> Result {
        let file = try SafeTensorsReader(contentsOf: inputs)
        func info(_ name: String) throws -> SafeTensorInfo {
            guard let t = file.tensor(name) else {
                throw TrainingError("\(inputs): no tensor '\(name)' (forward reads sample, timestep and encoder_hidden_states)")
            }
            return t
        }
        let sample = try info("sample"), timestep = try info("timestep"), states = try info("encoder_hidden_states")
        guard sample.shape.count == 4, sample.shape[2] == sample.shape[3], sample.shape[0] > 0 else {
            throw TrainingError("\(inputs): sample has shape \(SafeTensors.format(sample.shape)), expected [N, C, H, H]")
        }
        let (n, c, h) = (sample.shape[0], sample.shape[1], sample.shape[2])
        guard states.shape.count == 3, states.shape[0] == n else {
            throw TrainingError("\(inputs): encoder_hidden_states has shape \(SafeTensors.format(states.shape)), expected [\(n), L, D]")
        }
        guard timestep.shape == [n] || timestep.shape == [] || timestep.shape == [1] else {
            throw TrainingError("\(inputs): timestep has shape \(SafeTensors.format(timestep.shape)), expected [\(n)] or one value")
        }
        let steps: [Float]
        switch timestep.dtype {
        case .i64: steps = try file.values("timestep", as: Int64.self).map(Float.init)
        case .f32, .f16, .bf16: steps = try file.floats("timestep")
        default: throw TrainingError("\(inputs): timestep is \(timestep.dtype.rawValue), expected F32 or I64")
        }
        let allSteps = steps.count == n ? steps : [Float](repeating: steps[0], count: n)
        try file.requireFinite("sample")
        try file.requireFinite("encoder_hidden_states")

        let unet: UNet2DConditionModel
        if checkpoint.hasPrefix(DiffusersImport.prefix) {
            unet = try DiffusersImport.unet(String(checkpoint.dropFirst(DiffusersImport.prefix.count)), workspace: workspace, sampleSize: h).0
        } else {
            let model = try Checkpoint.loadModel(checkpoint, workspace: workspace).model
            guard case .unet2DCondition(let u, _) = model.networks else {
                throw TrainingError("\(checkpoint): a \(model.architecture.className); forward runs a UNet2DConditionModel (encoder_hidden_states in)")
            }
            guard u.config.sampleSize == h else {
                throw TrainingError("\(inputs): sample is \(h)x\(h), the checkpoint's U-Net \(u.config.sampleSize)x\(u.config.sampleSize)")
            }
            unet = u
        }
        guard c == unet.config.inChannels else {
            throw TrainingError("\(inputs): sample has \(c) channels, the U-Net's in_channels is \(unet.config.inChannels)")
        }
        guard states.shape[2] == unet.config.crossAttentionDim else {
            throw TrainingError("\(inputs): encoder_hidden_states are \(states.shape[2]) wide, the U-Net's cross_attention_dim is \(unet.config.crossAttentionDim)")
        }
        let x = try file.floats("sample"), context = try file.floats("encoder_hidden_states")
        let started = Stopwatch.now()
        let outCount = n * unet.config.outChannels * h * h
        let prediction = x.withUnsafeBufferPointer { xp in
            context.withUnsafeBufferPointer { cp in
                allSteps.withUnsafeBufferPointer { sp in
                    Array(UnsafeBufferPointer(start: unet.forward(xp.baseAddress!, steps: sp.baseAddress!, encoderHiddenStates: cp.baseAddress!,
                                                                  contextTokens: states.shape[1], n: n, keepActivations: false),
                                              count: outCount))
                }
            }
        }
        let seconds = Stopwatch.now() - started
        var writer = SafeTensorsWriter(metadata: ["checkpoint": checkpoint, "inputs": inputs])
        try writer.add("sample", shape: [n, unet.config.outChannels, h, h], prediction)
        try writer.write(to: out)
        return Result(batch: n, seconds: seconds)
    }
}
