namespace Hibari.Sfu.Spotlight;

/// <summary>
/// Decides which senders of one spotlight channel are focused, from the RFC 6464 audio levels of their packets and from
/// the spotlight APIs (FocusSpotlight, FocusSpotlightFixed, UnfocusSpotlight, ChangeSpotlightNumber). Pure and
/// single-threaded: the caller owns the clock (microseconds) and calls <see cref="Evaluate"/> every 100–200 ms.
/// </summary>
/// <remarks>
/// Sora documents only that the speakers above a certain volume / the most recent speakers get the focus (docs/research/spotlight-and-rpc.md);
/// the timing below is ours. The goal is a focus that follows whoever talks, but never flaps during a quick exchange:
/// a newcomer must be clearly louder for a while, and a focused sender keeps its slot for a minimum time.
/// Fixed senders occupy slots (they count toward <see cref="SpotlightNumber"/>) and only <see cref="Unfocus"/> frees them.
/// </remarks>
internal sealed class SpotlightSelector
{
    /// <summary>Sora's ChangeSpotlightNumber range is 1–8 (API_SPOTLIGHT); the connect value is limited the same way.</summary>
    public const int MaxSpotlightNumber = 8;

    /// <summary>
    /// Time constant of the speech-energy average. 1 s spans a few words, so one syllable or a cough does not
    /// make a speaker, while a sentence does; shorter follows noise, longer makes the focus lag the conversation
    /// (a new speaker after a silent one is clearly louder after ln 3 ≈ 1.1 time constants).
    /// </summary>
    public const long EnergyTimeConstantMicros = 1_000_000;

    /// <summary>
    /// How long a sender that is not focused must stay clearly louder than the weakest focused one before it takes
    /// the slot. 1 s is longer than the back-channel bursts ("yes", "hm") of a dialogue but short enough to follow a
    /// new speaker within a sentence.
    /// </summary>
    public const long SwitchDelayMicros = 1_000_000;

    /// <summary>
    /// Minimum time a sender keeps a focus it won (or was given by FocusSpotlight). 2 s bounds the rate of layer
    /// switches — each switch costs the receivers a key frame — to one per slot every 2 s whatever the audio does.
    /// </summary>
    public const long HoldMicros = 2_000_000;

    /// <summary>
    /// "Clearly louder": the newcomer's average energy must be this many times the focused one's. 2 (3 dB) is above
    /// the ripple two equally loud alternating speakers produce in a 1 s average, and below the gap between a
    /// talker and a listener (tens of dB).
    /// </summary>
    public const double LouderRatio = 2.0;

    /// <summary>
    /// Average level (in -dBov) a sender must exceed to take a focus from someone: -50 dBov is under quiet speech
    /// (about -20 to -40 dBov) and over room noise with noise suppression on, so silence never displaces silence.
    /// </summary>
    public const int SpeechFloorDbov = 50;

    /// <summary>
    /// A packet's level is held for at most this long; beyond it the sender counts as silent. Senders with DTX stop
    /// sending in silence, and without this cap the last word before a pause would count for the whole pause.
    /// </summary>
    public const long StaleMicros = 100_000;

    /// <summary>
    /// Weight of a packet whose V bit is clear, once the sender has set it at least once (so its VAD is active).
    /// Not 0: a VAD misses soft speech onsets, and the level still says something. Senders that never set V count fully.
    /// </summary>
    public const double NonVoiceWeight = 0.1;

    private static readonly double SpeechFloorPower = Power(SpeechFloorDbov);

    private readonly Dictionary<string, Sender> _senders = new(StringComparer.Ordinal);
    private readonly List<Sender> _focused = [];
    private string[] _reported = [];
    private long _order;
    private long _now;
    private int _number;

    public SpotlightSelector(int spotlightNumber = 1) => SpotlightNumber = spotlightNumber;

    /// <summary>The number of focus slots, 1–<see cref="MaxSpotlightNumber"/>; takes effect at the next Evaluate.</summary>
    public int SpotlightNumber
    {
        get => _number;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxSpotlightNumber);
            _number = value;
        }
    }

    public int SenderCount => _senders.Count;

    public bool IsFocused(string connectionId) => _senders.TryGetValue(connectionId, out var s) && s.Focused;

    public bool IsFixed(string connectionId) => _senders.TryGetValue(connectionId, out var s) && s.Fixed;

    /// <summary>Registers a sender with audio; false when it is already known. It competes from the next Evaluate.</summary>
    public bool AddSender(string connectionId, long nowMicros)
    {
        Touch(nowMicros);
        if (_senders.ContainsKey(connectionId)) return false;
        _senders.Add(connectionId, new Sender(connectionId, ++_order, _now));
        return true;
    }

    /// <summary>Forgets a sender; a focus it held is gone at once and refilled at the next Evaluate.</summary>
    public bool RemoveSender(string connectionId)
    {
        if (!_senders.Remove(connectionId, out var s)) return false;
        _focused.Remove(s);
        return true;
    }

    /// <summary>Feeds one audio packet's RFC 6464 level (0 loudest … 127 silence). Unknown senders are ignored.</summary>
    public void OnAudioLevel(string connectionId, int levelDbov, bool voiceActivity, long nowMicros)
    {
        Touch(nowMicros);
        if (!_senders.TryGetValue(connectionId, out var s)) return;
        if (voiceActivity) s.SeenVoice = true;
        var weight = voiceActivity || !s.SeenVoice ? 1.0 : NonVoiceWeight;
        s.Advance(_now);
        s.CurrentPower = weight * Power(Math.Clamp(levelDbov, 0, 127));
    }

    /// <summary>
    /// FocusSpotlight (<paramref name="fixed"/> false) or FocusSpotlightFixed: focuses the sender now, evicting the
    /// least active non-fixed one when the slots are full. A non-fixed focus then follows the usual rules after the
    /// hold time. False when the sender is unknown or every slot is held by a fixed sender.
    /// </summary>
    public bool Focus(string connectionId, bool @fixed)
    {
        if (!_senders.TryGetValue(connectionId, out var s)) return false;
        if (!s.Focused)
        {
            if (_focused.Count >= _number && !EvictWeakestNonFixed()) return false;
            SetFocused(s);
        }
        s.FocusedSince = _now;
        s.BlockedUntil = long.MinValue;
        if (@fixed && !s.Fixed) (s.Fixed, s.FixOrder) = (true, ++_order);
        return true;
    }

    /// <summary>
    /// UnfocusSpotlight: drops the focus (and the fixed mark). The sender is not refocused automatically for
    /// <see cref="HoldMicros"/>, so the call has a visible effect even when slots are free. False when unknown.
    /// </summary>
    public bool Unfocus(string connectionId)
    {
        if (!_senders.TryGetValue(connectionId, out var s)) return false;
        if (s.Focused) SetUnfocused(s);
        s.Fixed = false;
        s.BlockedUntil = _now + HoldMicros;
        return true;
    }

    /// <summary>
    /// Applies the number, fills free slots and makes at most one speech-driven replacement. True when the focused
    /// set differs from the one returned by the previous call that returned true; <paramref name="focused"/> is the
    /// current set in focus order either way.
    /// </summary>
    public bool Evaluate(long nowMicros, out IReadOnlyList<string> focused)
    {
        Touch(nowMicros);
        TrimToNumber();
        FillFreeSlots();
        ReplaceQuietest();
        var changed = !SameSet(_focused, _reported);
        if (changed) _reported = _focused.Select(s => s.Id).ToArray();
        focused = _reported;
        return changed;
    }

    /// <summary>RFC 6464 levels are -dBov; energy is averaged as linear power so one loud word outweighs many quiet ones.</summary>
    private static double Power(int levelDbov) => Math.Pow(10, -levelDbov / 10.0);

    private void Touch(long nowMicros) => _now = Math.Max(_now, nowMicros);

    private void TrimToNumber()
    {
        while (_focused.Count > _number)
        {
            if (EvictWeakestNonFixed()) continue;
            var newestFixed = _focused.MaxBy(s => s.FixOrder)!;
            SetUnfocused(newestFixed);
            newestFixed.Fixed = false;
        }
    }

    /// <summary>Free slots go to the most active eligible sender; among equally silent ones, to the earliest joined.</summary>
    private void FillFreeSlots()
    {
        while (_focused.Count < _number)
        {
            Sender? best = null;
            foreach (var s in _senders.Values)
            {
                if (!IsCandidate(s)) continue;
                if (best is null || Ranks(s, best)) best = s;
            }
            if (best is null) return;
            SetFocused(best);
        }
    }

    private bool Ranks(Sender a, Sender b)
    {
        var ea = a.EnergyAt(_now);
        var eb = b.EnergyAt(_now);
        return ea > eb || (ea == eb && a.JoinOrder < b.JoinOrder);
    }

    /// <summary>
    /// Tracks, for every candidate, since when it is clearly louder (<see cref="LouderRatio"/>, above the speech floor)
    /// than the weakest non-fixed focused sender. The loudest one that has been so without a break for
    /// <see cref="SwitchDelayMicros"/> replaces the weakest focused sender past its hold. A new speaker after a silent
    /// one thus takes over about 2 s after starting (1.1 time constants to be clearly louder, plus the delay).
    /// </summary>
    private void ReplaceQuietest()
    {
        var weakest = WeakestNonFixed(requireHoldElapsed: false);
        if (weakest is null)
        {
            foreach (var s in _senders.Values) s.LouderSince = null;
            return;
        }
        var best = LoudestReadyCandidate(weakest.EnergyAt(_now));
        if (best is null) return;
        var target = WeakestNonFixed(requireHoldElapsed: true);
        if (target is null || !IsClearlyLouder(best.EnergyAt(_now), target.EnergyAt(_now))) return;
        SetUnfocused(target);
        SetFocused(best);
    }

    private Sender? LoudestReadyCandidate(double weakestEnergy)
    {
        Sender? best = null;
        foreach (var s in _senders.Values)
        {
            if (s.Focused) continue;
            var energy = s.EnergyAt(_now);
            if (!IsCandidate(s) || !IsClearlyLouder(energy, weakestEnergy))
            {
                s.LouderSince = null;
                continue;
            }
            s.LouderSince ??= _now;
            if (_now - s.LouderSince < SwitchDelayMicros) continue;
            if (best is null || energy > best.EnergyAt(_now)) best = s;
        }
        return best;
    }

    private static bool IsClearlyLouder(double energy, double than) =>
        energy > SpeechFloorPower && energy > LouderRatio * than;

    private bool IsCandidate(Sender s) => !s.Focused && s.BlockedUntil <= _now;

    private Sender? WeakestNonFixed(bool requireHoldElapsed)
    {
        Sender? weakest = null;
        foreach (var s in _focused)
        {
            if (s.Fixed || (requireHoldElapsed && _now - s.FocusedSince < HoldMicros)) continue;
            if (weakest is null || s.EnergyAt(_now) < weakest.EnergyAt(_now)) weakest = s;
        }
        return weakest;
    }

    private bool EvictWeakestNonFixed()
    {
        var victim = WeakestNonFixed(requireHoldElapsed: false);
        if (victim is null) return false;
        SetUnfocused(victim);
        return true;
    }

    private void SetFocused(Sender s)
    {
        s.Focused = true;
        s.FocusedSince = _now;
        s.LouderSince = null;
        _focused.Add(s);
    }

    private void SetUnfocused(Sender s)
    {
        s.Focused = false;
        s.LouderSince = null;
        _focused.Remove(s);
    }

    private static bool SameSet(List<Sender> current, string[] reported)
    {
        if (current.Count != reported.Length) return false;
        foreach (var s in current)
            if (Array.IndexOf(reported, s.Id) < 0) return false;
        return true;
    }

    /// <summary>
    /// One sender's state. Energy is an exponential average of linear power in which each packet's power is held
    /// until the next packet, for at most <see cref="StaleMicros"/>, and silence is assumed after that.
    /// </summary>
    private sealed class Sender(string id, long joinOrder, long nowMicros)
    {
        public string Id { get; } = id;
        public long JoinOrder { get; } = joinOrder;
        public double Energy { get; private set; }
        public double CurrentPower { get; set; }
        public long LastUpdateMicros { get; private set; } = nowMicros;
        public bool SeenVoice { get; set; }
        public bool Focused { get; set; }
        public bool Fixed { get; set; }
        public long FixOrder { get; set; }
        public long FocusedSince { get; set; }
        public long? LouderSince { get; set; }
        public long BlockedUntil { get; set; } = long.MinValue;

        public void Advance(long nowMicros)
        {
            Energy = EnergyAt(nowMicros);
            LastUpdateMicros = Math.Max(LastUpdateMicros, nowMicros);
        }

        public double EnergyAt(long nowMicros)
        {
            var elapsed = Math.Max(0, nowMicros - LastUpdateMicros);
            var held = Math.Min(elapsed, StaleMicros);
            var energy = Energy + (1 - Decay(held)) * (CurrentPower - Energy);
            return energy * Decay(elapsed - held);
        }

        private static double Decay(long micros) => Math.Exp(-(double)micros / EnergyTimeConstantMicros);
    }
}
