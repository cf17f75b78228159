namespace WeSeek.Inference.Llama.Engine;

/// <summary>
/// Physical CPU cores, the thread count llama.cpp's own tools default to (llama-server's
/// <c>cpu_get_num_math</c>). LLamaSharp's default is half the logical processors, which on a machine without
/// SMT (a 2-vCPU VM) is half the cores: one thread where llama-server runs two.
/// </summary>
internal static class CpuTopology
{
    /// <summary>Cores counted once whatever their hardware threads (Linux: distinct thread-sibling sets); the
    /// logical processor count elsewhere or when the topology cannot be read.</summary>
    public static int PhysicalCores()
    {
        try
        {
            var cpus = new DirectoryInfo("/sys/devices/system/cpu");
            if (OperatingSystem.IsLinux() && cpus.Exists)
            {
                var siblings = new HashSet<string>(StringComparer.Ordinal);
                foreach (var cpu in cpus.EnumerateDirectories("cpu*"))
                {
                    var list = Path.Combine(cpu.FullName, "topology", "thread_siblings_list");
                    if (cpu.Name.Length > 3 && char.IsAsciiDigit(cpu.Name[3]) && File.Exists(list))
                    {
                        siblings.Add(File.ReadAllText(list).Trim());
                    }
                }

                if (siblings.Count > 0)
                {
                    return Math.Min(siblings.Count, Environment.ProcessorCount);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Falls back below.
        }

        return Environment.ProcessorCount;
    }
}
