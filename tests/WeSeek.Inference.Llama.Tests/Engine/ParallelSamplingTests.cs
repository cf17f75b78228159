using Microsoft.Extensions.AI;
using WeSeek.Inference.Llama.Engine;

namespace WeSeek.Inference.Llama.Tests.Engine;

/// <summary>The managed sampler on rows of logits it can be checked against, and many conversations sampled in
/// parallel on the real engine.</summary>
public sealed class ParallelSamplingTests
{
    private static float[] Row(int size, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, size).Select(_ => (float)(random.NextDouble() * 10 - 5))];
    }

    [Fact]
    public void TemperatureZero_IsTheArgMax()
    {
        var row = Row(152_064, 1);
        var best = Array.IndexOf(row, row.Max());

        Assert.Equal(best, new SpanSampler(0, 40, 0.95f, 7).Sample(row));
    }

    [Fact]
    public void SameSeed_SameTokens_AndOnlyAmongTheTopK()
    {
        var rows = Enumerable.Range(0, 50).Select(i => Row(4096, i)).ToList();
        var first = new SpanSampler(0.8f, 10, 1f, 42);
        var second = new SpanSampler(0.8f, 10, 1f, 42);

        var a = rows.Select(r => first.Sample(r)).ToList();
        var b = rows.Select(r => second.Sample(r)).ToList();

        Assert.Equal(a, b);
        for (var i = 0; i < rows.Count; i++)
        {
            var topTen = rows[i].Select((v, id) => (v, id)).OrderByDescending(p => p.v).Take(10).Select(p => p.id);
            Assert.Contains(a[i], topTen);
        }
    }

    [Theory]
    [InlineData(4093, false)]
    [InlineData(152_064, false)]
    [InlineData(1001, true)]
    public void TopKSet_IsExactlyTheKLargest_WhateverTheRowLengthOrOrder(int size, bool rising)
    {
        // Rising rows replace a survivor in every block: the worst case for the block-skipping scan.
        var row = rising ? [.. Enumerable.Range(0, size).Select(i => i * 0.001f)] : Row(size, size);
        var topTen = row.Select((v, id) => (v, id)).OrderByDescending(p => p.v).Take(10).Select(p => p.id).ToHashSet();

        // A very high temperature makes the ten equally likely, so enough draws show the whole set.
        var sampler = new SpanSampler(1e6f, 10, 1f, 5);
        var drawn = Enumerable.Range(0, 2000).Select(_ => sampler.Sample(row)).ToHashSet();

        Assert.Equal(topTen.Order(), drawn.Order());
    }

    [Theory]
    [InlineData(0.8f, 40, 0.95f)]
    [InlineData(1.5f, 10, 1f)]
    [InlineData(0f, 40, 0.95f)]
    public void FromTheDecodesCandidates_InAnyOrder_TheSameDrawsAsTheScan(float temperature, int topK, float topP)
    {
        // Sampler=backend: llama.cpp's top-k comes back unordered; the draws must be the row scan's, seed for seed.
        var rows = Enumerable.Range(0, 40).Select(i => Row(20_000, 100 + i)).ToList();
        var scan = new SpanSampler(temperature, topK, topP, 9);
        var fromCandidates = new SpanSampler(temperature, topK, topP, 9);
        var shuffle = new Random(3);

        foreach (var row in rows)
        {
            var candidates = row.Select((v, id) => (v, id)).OrderByDescending(p => p.v).Take(scan.TopK).ToArray();
            shuffle.Shuffle(candidates);
            var drawn = fromCandidates.SampleCandidates([.. candidates.Select(c => c.id)], [.. candidates.Select(c => c.v)]);

            Assert.Equal(scan.Sample(row), drawn);
        }
    }

    [Fact]
    public void Candidates_TiedLogits_OrderByTokenId_AndNoneIsARefusal()
    {
        // Equal logits draw in token-id order whichever order they arrive in, so a seed repeats.
        var sampler = () => new SpanSampler(1f, 4, 1f, 11);
        int[] ids = [40, 10, 30, 20];
        float[] logits = [1f, 1f, 1f, 1f];
        var forward = Enumerable.Range(0, 50).Select(_ => 0).ToList();
        var first = sampler();
        var second = sampler();

        var a = forward.Select(_ => first.SampleCandidates(ids, logits)).ToList();
        var b = forward.Select(_ => second.SampleCandidates([.. ids.Reverse()], logits)).ToList();

        Assert.Equal(a, b);
        Assert.Equal(10, new SpanSampler(0, 4, 1f, 1).SampleCandidates(ids, logits));
        Assert.Throws<ArgumentException>(() => sampler().SampleCandidates([], []));
    }

    [Fact]
    public void SmallTopP_KeepsOnlyTheMostLikely_AndDrawsFollowTheDistribution()
    {
        var row = new float[1000];
        row[3] = 5f;
        row[7] = 4f;
        row[9] = 3f;
        var narrow = new SpanSampler(1f, 40, 0.5f, 1);
        Assert.All(Enumerable.Range(0, 200), _ => Assert.Equal(3, narrow.Sample(row)));

        // Softmax of (5, 4, 3) among the top three (top-p 0.99 keeps them): about 0.67, 0.24, 0.09.
        var wide = new SpanSampler(1f, 3, 0.99f, 2);
        var draws = Enumerable.Range(0, 4000).Select(_ => wide.Sample(row)).ToList();
        Assert.InRange(draws.Count(t => t == 3) / 4000.0, 0.60, 0.74);
        Assert.InRange(draws.Count(t => t == 7) / 4000.0, 0.19, 0.30);
        Assert.InRange(draws.Count(t => t == 9) / 4000.0, 0.05, 0.13);
    }

    [Fact]
    public async Task EightConversations_SampledInParallel_AllFinish()
    {
        var host = LlamaEngineHost.ForModel(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 2048, MaxSequences = 8, ParallelSamplingFrom = 2, MaxKeptConversations = 0 });
        await using (host)
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
            using var client = new LlamaChatClient(host);

            var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => client.GetResponseAsync(
                [new ChatMessage(ChatRole.User, $"第{i}个问题：今天吃什么？")],
                new ChatOptions { MaxOutputTokens = 24, Seed = 100 + i, Temperature = 0.9f, TopP = 0.95f },
                TestContext.Current.CancellationToken)));

            Assert.All(answers, a => Assert.True(a.FinishReason == ChatFinishReason.Length || a.FinishReason == ChatFinishReason.Stop));
            Assert.Contains(answers, a => a.Usage?.OutputTokenCount == 24);
        }
    }
}
