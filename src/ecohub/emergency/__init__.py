"""Environmental emergencies and spatial supervision (突发环境事件与空间监管).

Pure models (no I/O): :mod:`stability` (Pasquill–Gifford class), :mod:`sigmas` (σy/σz), :mod:`plume_rise`
(Briggs), :mod:`plume` (Gaussian plume and puff, isopleths), :mod:`river` (1-D spill). Around them:
:mod:`scenario` (validated inputs → screening result with GeoJSON), :mod:`aermod` (export for a regulatory
run), and the registers (red lines, risk sources, receptors, incidents) with their services.

Every dispersion output is a **screening** estimate (筛选估算), never a regulatory prediction.
"""

SCREENING_NOTICE = (
    "筛选估算（简化解析模型），不替代法规模型的预测结果 / "
    "SCREENING estimate (simplified analytical model): not a regulatory model prediction"
)
