"""The component actors: microphone, playout, VAD, STT, TTS.

    from voxtrio.actors import MicReader, Playout, SegmentAudio, Interrupt, STTActor
"""

from voxtrio.actors.engine_messages import EndOfAudio as EndOfAudio
from voxtrio.actors.engine_messages import EngineError as EngineError
from voxtrio.actors.engine_messages import FlushAudio as FlushAudio
from voxtrio.actors.engine_messages import MetricsPublisher as MetricsPublisher
from voxtrio.actors.messages_audio import EVENT_MIC_FRAMES_DROPPED as EVENT_MIC_FRAMES_DROPPED
from voxtrio.actors.messages_audio import EVENT_PLAYBACK_FINISHED as EVENT_PLAYBACK_FINISHED
from voxtrio.actors.messages_audio import EVENT_PLAYBACK_POSITION as EVENT_PLAYBACK_POSITION
from voxtrio.actors.messages_audio import EVENT_PLAYBACK_STARTED as EVENT_PLAYBACK_STARTED
from voxtrio.actors.messages_audio import PLAYBACK_EVENTS as PLAYBACK_EVENTS
from voxtrio.actors.messages_audio import EndOfSegment as EndOfSegment
from voxtrio.actors.messages_audio import Interrupt as Interrupt
from voxtrio.actors.messages_audio import MicFramesDropped as MicFramesDropped
from voxtrio.actors.messages_audio import Pause as Pause
from voxtrio.actors.messages_audio import PlaybackFinished as PlaybackFinished
from voxtrio.actors.messages_audio import PlaybackPosition as PlaybackPosition
from voxtrio.actors.messages_audio import PlaybackStarted as PlaybackStarted
from voxtrio.actors.messages_audio import PlaySegment as PlaySegment
from voxtrio.actors.messages_audio import Resume as Resume
from voxtrio.actors.messages_audio import SegmentAudio as SegmentAudio
from voxtrio.actors.mic import MicReader as MicReader
from voxtrio.actors.mic import MicStatistics as MicStatistics
from voxtrio.actors.mic import open_frame_mailbox as open_frame_mailbox
from voxtrio.actors.playout import Playout as Playout
from voxtrio.actors.playout import PlayoutStatistics as PlayoutStatistics
from voxtrio.actors.stt import STTActor as STTActor
from voxtrio.actors.stt import STTOutput as STTOutput
from voxtrio.actors.tts import CancelSynthesis as CancelSynthesis
from voxtrio.actors.tts import EndOfText as EndOfText
from voxtrio.actors.tts import SynthesisDone as SynthesisDone
from voxtrio.actors.tts import Synthesize as Synthesize
from voxtrio.actors.tts import SynthesizeText as SynthesizeText
from voxtrio.actors.tts import TTSActor as TTSActor
from voxtrio.actors.tts import TTSOutput as TTSOutput
from voxtrio.actors.vad import VADActor as VADActor
