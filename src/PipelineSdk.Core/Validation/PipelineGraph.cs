using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Validation;

/// <summary>A step with everything it touches made explicit (declared plus referenced in its arguments).</summary>
public sealed record StepNode(Step Step, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs, IReadOnlyList<string> Parameters)
{
    public string Name => Step.Name;
}

/// <summary>The steps and what orders them: consuming another step's output, and RunAfter.</summary>
public sealed class PipelineGraph
{
    public PipelineGraph(Pipeline pipeline, IReadOnlyList<StepNode> nodes, IReadOnlyDictionary<string, string> producerOfOutput)
    {
        Pipeline = pipeline;
        Nodes = nodes;
        ProducerOfOutput = producerOfOutput;
        Dependencies = nodes.ToDictionary(
            n => n.Name,
            n => (IReadOnlyList<string>)n.Inputs
                .Where(producerOfOutput.ContainsKey).Select(i => producerOfOutput[i])
                .Concat(n.Step.RunAfter)
                .Distinct().ToList());
    }

    public Pipeline Pipeline { get; }
    public IReadOnlyList<StepNode> Nodes { get; }
    /// <summary>Output name → the name of the step that writes it.</summary>
    public IReadOnlyDictionary<string, string> ProducerOfOutput { get; }
    /// <summary>Step name → names of the steps that must finish first.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Dependencies { get; }

    public StepNode this[string name] => Nodes.First(n => n.Name == name);

    /// <summary>One cycle as a path of step names that ends where it starts, or null.</summary>
    public IReadOnlyList<string>? FindCycle()
    {
        var state = new Dictionary<string, int>(); // 1 = on the current path, 2 = done
        var path = new List<string>();
        IReadOnlyList<string>? Visit(string name)
        {
            state[name] = 1;
            path.Add(name);
            foreach (var dep in Dependencies[name])
            {
                if (state.GetValueOrDefault(dep) == 1)
                {
                    // path[i + 1] feeds path[i]; reversed, the cycle reads in the direction data flows.
                    var cycle = path.Skip(path.IndexOf(dep)).Reverse().ToList();
                    // Start at the step declared first, so the message is the same however the walk began.
                    var first = cycle.IndexOf(Nodes.First(n => cycle.Contains(n.Name)).Name);
                    cycle = [.. cycle.Skip(first), .. cycle.Take(first)];
                    cycle.Add(cycle[0]);
                    return cycle;
                }
                if (state.GetValueOrDefault(dep) == 0 && Visit(dep) is { } found) return found;
            }
            path.RemoveAt(path.Count - 1);
            state[name] = 2;
            return null;
        }
        foreach (var n in Nodes)
            if (state.GetValueOrDefault(n.Name) == 0 && Visit(n.Name) is { } cycle) return cycle;
        return null;
    }

    /// <summary>Steps in an order where every step follows its dependencies; among steps that are ready, declaration order.</summary>
    public IReadOnlyList<StepNode> TopologicalOrder()
    {
        var waitingOn = Nodes.ToDictionary(n => n.Name, n => Dependencies[n.Name].Count);
        var order = new List<StepNode>();
        while (order.Count < Nodes.Count)
        {
            var next = Nodes.First(n => waitingOn[n.Name] == 0);
            waitingOn[next.Name] = -1;
            order.Add(next);
            foreach (var n in Nodes.Where(n => Dependencies[n.Name].Contains(next.Name))) waitingOn[n.Name]--;
        }
        return order;
    }
}
