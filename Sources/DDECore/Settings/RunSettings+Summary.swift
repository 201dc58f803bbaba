extension RunSettings {
    /// The settings a reader of the report needs to judge its table, as (label, value), in the
    /// config's own words (each value as the resolved config writes it).
    public func summary(evalPrompts: Int) -> [(String, String)] {
        func v(_ key: String) -> String { config.value(key).text }
        return [("out folder", config.outDirectory),
                ("config", config.sourceFile ?? "(defaults and overrides only)"),
                ("methods", v("compare.methods")), ("train annotators", v("compare.annotators")), ("seeds", v("compare.seeds")),
                ("model", "U-Net \(v("block_out_channels")) channels, \(v("sample_size"))x\(v("sample_size")) px, T = \(v("timesteps")), \(v("schedule"))"),
                ("fine-tune", "\(v("steps")) steps x \(v("batch")) pairs; " + config.stringList("compare.methods").map { m in
                    func text(_ own: (beta: Double, lr: Double)) -> String { m == "sft" ? "lr \(own.lr)" : "beta \(own.beta), lr \(own.lr)" }
                    let annotators = config.stringList("compare.annotators")
                    let each = annotators.map { text(config.methodSettings(m, annotator: $0)) }
                    // One value for every annotator, or each annotator's (keys `*.by_annotator`).
                    if Set(each).count <= 1 { return "\(m) " + (each.first ?? text(config.methodSettings(m))) }
                    return "\(m) " + zip(annotators, each).map { "\($0) \($1)" }.joined(separator: ", ")
                }.joined(separator: "; ") + (config.doubleList("compare.beta").isEmpty && config.doubleList("compare.lr").isEmpty
                    ? "" : " (a sweep: see the grid points in the matrix)")),
                ("evaluation", "\(evalPrompts) \(v("eval.prompts")) prompts x \(v("eval.images_per_prompt")) images, DDIM "
                    + "\(v("eval.steps")) steps, guidance \(v("eval.guidance")), noise seed \(v("eval.seed")), "
                    + "\(v("eval.bootstrap")) bootstrap resamples")]
    }
}
