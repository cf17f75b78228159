using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace WeSeek.Operations;

/// <summary>One GPU's memory as NVML reports it.</summary>
/// <param name="Index">The device index (as <c>nvidia-smi</c> numbers it).</param>
/// <param name="Name">The product name.</param>
/// <param name="UsedBytes">Memory in use, by every process.</param>
/// <param name="TotalBytes">The card's memory.</param>
public sealed record GpuMemory(int Index, string Name, ulong UsedBytes, ulong TotalBytes);

/// <summary>Where GPU memory figures come from: NVML on a machine with an NVIDIA driver. A seam so that the
/// exported names can be checked on a machine without a GPU.</summary>
internal interface IGpuMemorySource
{
    /// <summary>Opens the source; false when there is no GPU to read (no driver, no device).</summary>
    bool TryOpen();

    /// <summary>Every GPU's memory now.</summary>
    IReadOnlyList<GpuMemory> Read();

    /// <summary>Closes what <see cref="TryOpen"/> opened.</summary>
    void Close();
}

/// <summary>
/// GPU memory, exported as the OpenTelemetry hardware conventions' <c>hw.gpu.memory.usage</c> and
/// <c>hw.gpu.memory.limit</c> (bytes, by <c>hw.id</c> and <c>hw.name</c>), read from an <see cref="IGpuMemorySource"/>
/// (NVML by default). Without a GPU the instruments are never created: a machine without one shows no GPU series
/// rather than zeros.
/// </summary>
internal sealed partial class GpuMemoryMetrics : IHostedService
{
    private readonly IGpuMemorySource _source;
    private readonly ILogger<GpuMemoryMetrics> _logger;
    private readonly IMeterFactory? _meters;
    private bool _exported;

    /// <summary>NVML, read without exporting anything (the benchmarks print what it reads).</summary>
    public GpuMemoryMetrics(ILogger<GpuMemoryMetrics> logger)
    {
        _source = new NvmlGpuMemorySource();
        _logger = logger;
    }

    public GpuMemoryMetrics(IGpuMemorySource source, IMeterFactory meters, ILogger<GpuMemoryMetrics> logger)
    {
        _source = source;
        _meters = meters;
        _logger = logger;
    }

    /// <summary>True once the source answered and found at least one GPU.</summary>
    public bool Available { get; private set; }

    /// <summary>Every GPU's memory now; empty without a GPU.</summary>
    public IReadOnlyList<GpuMemory> Read() => Available ? _source.Read() : [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_source.TryOpen())
        {
            return Task.CompletedTask;
        }

        Available = true;
        if (_meters is not null && !_exported)
        {
            // On the container's meter, which is disposed with it; after a stop the gauges read nothing.
            _exported = true;
            var meter = _meters.Create(WeSeekMetrics.MeterName);
            meter.CreateObservableGauge("hw.gpu.memory.usage", () => Measure(g => (long)g.UsedBytes), "By", "GPU memory in use (NVML), by device.");
            meter.CreateObservableGauge("hw.gpu.memory.limit", () => Measure(g => (long)g.TotalBytes), "By", "GPU memory size (NVML), by device.");
        }

        Log.Found(_logger, _source.Read().Count);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (Available)
        {
            Available = false;
            _source.Close();
        }

        return Task.CompletedTask;
    }

    private IEnumerable<Measurement<long>> Measure(Func<GpuMemory, long> value) =>
        Read().Select(g => new Measurement<long>(value(g), new("hw.id", g.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("hw.name", g.Name)));

    private static partial class Log
    {
        [LoggerMessage(Logging.WeSeekEventId.GpuFound, LogLevel.Information, "NVML found {Count} GPU(s): their memory is exported as hw.gpu.memory.usage and hw.gpu.memory.limit")]
        public static partial void Found(ILogger logger, int count);
    }
}

/// <summary>
/// GPU memory through NVML (the NVIDIA driver's management library).
/// </summary>
/// <remarks>
/// NVML is called directly: the few functions needed are a stable C API, and no maintained NuGet package binds
/// them for .NET. The library is looked up at start-up (<c>libnvidia-ml.so.1</c>, <c>nvml.dll</c>).
/// </remarks>
internal sealed class NvmlGpuMemorySource : IGpuMemorySource
{
    private const string Library = "nvidia-ml";
    private const int Success = 0;

    static NvmlGpuMemorySource() => NativeLibrary.SetDllImportResolver(typeof(NvmlGpuMemorySource).Assembly, Resolve);

    public bool TryOpen()
    {
        try
        {
            return NativeMethods.nvmlInit_v2() == Success && NativeMethods.nvmlDeviceGetCount_v2(out var count) == Success && count > 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            // No NVIDIA driver: no GPU series.
            return false;
        }
    }

    public IReadOnlyList<GpuMemory> Read()
    {
        if (NativeMethods.nvmlDeviceGetCount_v2(out var count) != Success)
        {
            return [];
        }

        var gpus = new List<GpuMemory>((int)count);
        var name = new byte[96];
        for (uint i = 0; i < count; i++)
        {
            if (NativeMethods.nvmlDeviceGetHandleByIndex_v2(i, out var device) != Success
                || NativeMethods.nvmlDeviceGetMemoryInfo(device, out var memory) != Success)
            {
                continue;
            }

            var label = NativeMethods.nvmlDeviceGetName(device, name, (uint)name.Length) == Success
                ? Encoding.UTF8.GetString(name, 0, Math.Max(0, Array.IndexOf(name, (byte)0))) : "GPU";
            gpus.Add(new GpuMemory((int)i, label, memory.Used, memory.Total));
        }

        return gpus;
    }

    public void Close() => _ = NativeMethods.nvmlShutdown();

    private static IntPtr Resolve(string name, System.Reflection.Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Library)
        {
            return IntPtr.Zero;
        }

        foreach (var candidate in OperatingSystem.IsWindows() ? ["nvml.dll"] : new[] { "libnvidia-ml.so.1", "libnvidia-ml.so" })
        {
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle))
            {
                return handle;
            }
        }

        return IntPtr.Zero;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct NvmlMemory
    {
        public ulong Total;
        public ulong Free;
        public ulong Used;
    }

    private static partial class NativeMethods
    {
        [DllImport(Library)]
        public static extern int nvmlInit_v2();

        [DllImport(Library)]
        public static extern int nvmlShutdown();

        [DllImport(Library)]
        public static extern int nvmlDeviceGetCount_v2(out uint count);

        [DllImport(Library)]
        public static extern int nvmlDeviceGetHandleByIndex_v2(uint index, out IntPtr device);

        [DllImport(Library)]
        public static extern int nvmlDeviceGetMemoryInfo(IntPtr device, out NvmlMemory memory);

        [DllImport(Library)]
        public static extern int nvmlDeviceGetName(IntPtr device, [Out] byte[] name, uint length);
    }
}
