using LLama.Native;
using Microsoft.Extensions.Logging;

namespace WeSeek.Inference.Llama.Engine;

/// <summary>
/// Configures LLamaSharp's native loading once per process, before the first native call: a custom
/// llama.cpp library (a CUDA build) when configured, and llama.cpp's log routed to our logger (category
/// <c>LLama.Native</c>) instead of stderr; then the ABI check.
/// </summary>
internal static class NativeSetup
{
    private static readonly Lock Gate = new();
    private static bool _configured;

    public static void EnsureConfigured(LlamaEngineOptions options, ILogger logger)
    {
        lock (Gate)
        {
            if (_configured)
            {
                return;
            }

            _configured = true;
            try
            {
                if (!string.IsNullOrEmpty(options.NativeLibraryPath))
                {
                    NativeLibraryConfig.LLama.WithLibrary(options.NativeLibraryPath);
                }

                NativeLibraryConfig.All.WithLogCallback(logger);
            }
            catch (InvalidOperationException)
            {
                // The native library is already loaded (a quantiser ran first): keep its settings.
            }

            NativeAbiCheck.Verify(options.NativeLibraryPath);
        }
    }
}
