namespace PipelineSdk.Core.Reporting;

/// <summary>Fill and border colours (and a dashed border), one place for every renderer so Mermaid, DOT and SVG agree.</summary>
public sealed record NodeColors(string Fill, string Stroke, string Text = "#1a1a1a", bool Dashed = false);

public static class DagStyle
{
    public static NodeColors For(StepStatus status) => status switch
    {
        // Reused is as good as succeeded (same outputs), so it is green too; a dashed border and the label tell them apart.
        StepStatus.Succeeded => new("#d4f4dd", "#2e8b57"),
        StepStatus.Reused => new("#d4f4dd", "#2e8b57", Dashed: true),
        StepStatus.Failed => new("#f9d0d0", "#c0392b"),
        StepStatus.Skipped => new("#e2e2e2", "#8a8a8a", "#555555"),
        _ => new("#ffffff", "#6b6b6b"),
    };

    public static readonly NodeColors Dataset = new("#e8f0fe", "#4a6fa5");

    /// <summary>A class name for a status, usable in Mermaid classDef and CSS.</summary>
    public static string ClassName(StepStatus status) => status switch
    {
        StepStatus.NeverRun => "neverrun",
        _ => status.ToString().ToLowerInvariant(),
    };

    /// <summary>Statuses in the order a legend lists them.</summary>
    public static readonly StepStatus[] Legend = [StepStatus.Succeeded, StepStatus.Reused, StepStatus.Failed, StepStatus.Skipped, StepStatus.NeverRun];
}
